package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Options configure BuildAll.
type Options struct {
	// OutDir receives <name>-<tag>.tar per image (default bin/images).
	OutDir string
	// Version tags the agent's image.
	Version string
	// Components holds kubernetes-<version>/ and kine/ (default bin/components).
	Components string
	// AgentBinary and VClusterBinary are prebuilt binaries; when empty they are built
	// from ./cmd/tenantry and ./cmd/tenantry-vcluster.
	AgentBinary, VClusterBinary string
	// KubernetesVersions are the virtual cluster images' versions (default every
	// v1alpha1.SupportedKubernetesVersions).
	KubernetesVersions []string
	// NoAgent skips the agent's image (`make dev` runs the agent as a local process).
	NoAgent bool
}

// Built is one image written.
type Built struct {
	Ref, Path, Digest string
	Size              int64
	Took              time.Duration
}

// BuildAll writes the agent's image tenantry:<version> and one tenantry-vcluster:<v>
// per supported Kubernetes version. A virtual cluster binary that does not build fails
// those images only; the error names them.
func BuildAll(ctx context.Context, o Options) ([]Built, error) {
	o = o.withDefaults()
	tmp, err := os.MkdirTemp("", "tenantry-images-")
	if err != nil {
		return nil, fmt.Errorf("creating a build dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	var out []Built
	if !o.NoAgent {
		agent, err := buildAgent(ctx, o, tmp)
		if err != nil {
			return nil, err
		}
		out = append(out, agent)
	}
	vcBin, err := binary(ctx, o.VClusterBinary, "./cmd/tenantry-vcluster", filepath.Join(tmp, VClusterBinary))
	if err != nil {
		return out, fmt.Errorf("images tenantry-vcluster:%v: the virtual cluster binary does not build: %w", o.KubernetesVersions, err)
	}
	var errs []error
	for _, v := range o.KubernetesVersions {
		b, err := write(o.OutDir, VClusterSpec("tenantry-vcluster:"+v, v, vcBin, o.Components))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, b)
	}
	return out, errors.Join(errs...)
}

func buildAgent(ctx context.Context, o Options, tmp string) (Built, error) {
	agentBin, err := binary(ctx, o.AgentBinary, "./cmd/tenantry", filepath.Join(tmp, AgentBinary))
	if err != nil {
		return Built{}, fmt.Errorf("image tenantry:%s: %w", o.Version, err)
	}
	return write(o.OutDir, AgentSpec("tenantry:"+o.Version, o.Version, agentBin))
}

func (o Options) withDefaults() Options {
	if o.OutDir == "" {
		o.OutDir = filepath.Join("bin", "images")
	}
	if o.Components == "" {
		o.Components = filepath.Join("bin", "components")
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if len(o.KubernetesVersions) == 0 {
		for _, v := range v1alpha1.SupportedKubernetesVersions {
			o.KubernetesVersions = append(o.KubernetesVersions, v)
		}
		sort.Strings(o.KubernetesVersions)
	}
	return o
}

// binary is prebuilt when given, else built from pkg at out.
func binary(ctx context.Context, prebuilt, pkg, out string) (string, error) {
	if prebuilt != "" {
		return prebuilt, nil
	}
	return out, GoBuild(ctx, pkg, out)
}

// TarballName is the file name of an image reference's tarball: name-tag.tar.
func TarballName(ref string) string {
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == ':' {
			return ref[:i] + "-" + ref[i+1:] + ".tar"
		}
	}
	return ref + ".tar"
}

func write(dir string, s Spec) (Built, error) {
	began := time.Now()
	img, err := Build(s)
	if err != nil {
		return Built{}, err
	}
	path := filepath.Join(dir, TarballName(s.Ref))
	if err := WriteTarball(path, s.Ref, img); err != nil {
		return Built{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return Built{}, fmt.Errorf("image %s: %w", s.Ref, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return Built{}, fmt.Errorf("image %s: %w", s.Ref, err)
	}
	return Built{Ref: s.Ref, Path: path, Digest: d.String(), Size: st.Size(), Took: time.Since(began)}, nil
}
