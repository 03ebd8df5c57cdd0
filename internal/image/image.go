// Package image builds OCI images from files on disk without Docker (go-containerregistry).
package image

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NonRoot is the user every image runs as (distroless' nonroot).
const NonRoot = 65532

// Epoch is the creation time of every image and file: fixed, so the same inputs give
// the same digest.
var Epoch = time.Unix(0, 0).UTC()

// Spec describes an image: one layer of files on an empty base.
type Spec struct {
	// Ref names the image in the tarball, e.g. "tenantry:v0.1.0".
	Ref        string
	Files      []File
	Entrypoint []string
	Cmd        []string
	User       string
	Env        []string
	WorkingDir string
	Labels     map[string]string
}

// File is one entry of the layer: a directory (Dir), a symbolic link to Link, a copy of the host file Source,
// or Data.
type File struct {
	Path     string // inside the image, without a leading slash
	Source   string
	Data     []byte
	Dir      bool
	Link     string
	Mode     int64
	UID, GID int
}

// Build assembles the image: an empty base, one gzip layer with the files, and a config
// with the entrypoint, user, environment, working dir and labels. It is deterministic.
func Build(s Spec) (v1.Image, error) {
	for _, f := range s.Files {
		if f.Source != "" {
			if _, err := os.Stat(f.Source); err != nil {
				return nil, fmt.Errorf("image %s: file /%s: %w", s.Ref, f.Path, err)
			}
		}
	}
	files := withParents(s.Files)
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return tarStream(files), nil },
		tarball.WithMediaType(types.DockerLayer), tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, fmt.Errorf("image %s: building the layer: %w", s.Ref, err)
	}
	// Docker media types: the tarball format (docker save) keeps no manifest, so readers
	// (ctr images import, crane push) rebuild a Docker one; building the same here makes
	// the digest printed at build time the digest the registry shows.
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, MediaType: types.DockerLayer,
		History: v1.History{Created: v1.Time{Time: Epoch}, CreatedBy: "tenantry-images", Comment: s.Ref}})
	if err != nil {
		return nil, fmt.Errorf("image %s: adding the layer: %w", s.Ref, err)
	}
	return configure(img, s)
}

func configure(img v1.Image, s Spec) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: reading the config: %w", s.Ref, err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: Epoch}
	cf.Config.Entrypoint, cf.Config.Cmd = s.Entrypoint, s.Cmd
	cf.Config.User, cf.Config.Env, cf.Config.WorkingDir = s.User, s.Env, s.WorkingDir
	cf.Config.Labels = s.Labels
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image %s: writing the config: %w", s.Ref, err)
	}
	return img, nil
}

// WriteTarball writes img as a tarball (`docker load`, `ctr images import`, `crane push`)
// named by ref, at path.
func WriteTarball(path, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", ref, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	// Written aside and renamed, so a reader (the dev node's image watcher) never sees half a file.
	tmp := path + ".tmp"
	if err := tarball.WriteToFile(tmp, tag, img); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
