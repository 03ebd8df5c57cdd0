package bench

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
)

// artifactServer stands in for source-controller's storage: it packs a directory into a
// tarball per revision and serves it over loopback HTTP, where kustomize-controller
// downloads it from the GitRepository's status.artifact.url.
type artifactServer struct {
	dir string
	srv *httptest.Server
}

// artifact is one packed revision.
type artifact struct {
	path, url, digest string
	size              int64
}

func newArtifactServer(dir string) (*artifactServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	return &artifactServer{dir: dir, srv: httptest.NewServer(http.FileServer(http.Dir(dir)))}, nil
}

func (a *artifactServer) Close() { a.srv.Close() }

// pack writes src as <name>.tar.gz and returns where it is served and its sha256 digest.
func (a *artifactServer) pack(src, name string) (*artifact, error) {
	file := name + ".tar.gz"
	f, err := os.Create(filepath.Join(a.dir, file))
	if err != nil {
		return nil, fmt.Errorf("creating the artifact: %w", err)
	}
	defer func() { _ = f.Close() }()
	h := sha256.New()
	if err := writeTarGz(io.MultiWriter(f, h), src); err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("artifact size: %w", err)
	}
	return &artifact{path: "gitrepository/" + fluxNamespace + "/tenants/" + file, url: a.srv.URL + "/" + file,
		digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), size: st.Size()}, nil
}

// writeTarGz packs the regular files under src, in name order.
func writeTarGz(w io.Writer, src string) error {
	var files []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("walking %s: %w", src, err)
	}
	sort.Strings(files)
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, p := range files {
		if err := addFile(tw, src, p); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("closing the tarball: %w", err)
	}
	return gz.Close()
}

func addFile(tw *tar.Writer, root, p string) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("reading %s: %w", p, err)
	}
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return fmt.Errorf("relative path of %s: %w", p, err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data))}); err != nil {
		return fmt.Errorf("tar header %s: %w", rel, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("tar %s: %w", rel, err)
	}
	return nil
}
