package bench

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/tenantry/tenantry/internal/image"
	"github.com/tenantry/tenantry/internal/localcluster"
)

// The vcluster peer's pinned version, and the image the benchmark builds for it.
const (
	vclusterVersion = "v0.30.0"
	// vclusterKube is the Kubernetes version its control plane runs: the same pinned
	// kube-apiserver and kube-controller-manager as tenantry's bench tenant.
	vclusterKube      = "v1.37.2"
	vclusterImageRepo = "tenantry.test/vcluster"
	vclusterImage     = vclusterImageRepo + ":" + vclusterVersion
)

// vclusterComponent is the directory of the built peer (hack/components.sh vcluster):
// the vcluster binary and its chart, or an error saying how to build it.
func vclusterComponent() (string, error) {
	return peerComponent("vcluster", "vcluster", "chart/Chart.yaml")
}

// vclusterImageSpec is the peer's one image, laid out where its chart expects it:
//   - /vcluster, run as `vcluster start` (upstream's Dockerfile entrypoint);
//   - /usr/local/bin/kine, which `vcluster start` runs for its SQLite backing store
//     (upstream ships rancher/kine v0.14.4; here tenantry's pinned kine);
//   - /kubernetes/kube-apiserver and kube-controller-manager, which the chart's init
//     container "kubernetes" copies into /binaries with `cp -r /kubernetes/. /binaries/`
//     (upstream: the ghcr.io/loft-sh/kubernetes image); so the image serves as both;
//   - busybox with cp and sh, for that init container.
func vclusterImageSpec(vclusterBin, components, busybox string) image.Spec {
	kube := filepath.Join(components, "kubernetes-"+vclusterKube)
	files := []image.File{
		{Path: "vcluster", Source: vclusterBin, Mode: 0o755},
		{Path: "usr/local/bin/kine", Source: filepath.Join(components, "kine", "kine"), Mode: 0o755},
		{Path: "kubernetes/kube-apiserver", Source: filepath.Join(kube, "kube-apiserver"), Mode: 0o755},
		{Path: "kubernetes/kube-controller-manager", Source: filepath.Join(kube, "kube-controller-manager"), Mode: 0o755},
		{Path: "bin/busybox", Source: busybox, Mode: 0o755},
		{Path: "bin/cp", Link: "busybox"},
		{Path: "bin/sh", Link: "busybox"},
		{Path: "tmp", Dir: true, Mode: 0o1777},
		{Path: "data", Dir: true, Mode: 0o755},
	}
	return image.Spec{
		Ref:        vclusterImage,
		Files:      files,
		Entrypoint: []string{"/vcluster", "start"},
		Env:        []string{"PATH=/usr/local/bin:/bin", "HOME=/"},
		WorkingDir: "/",
		Labels: map[string]string{
			"org.opencontainers.image.title":  "loft-sh vcluster " + vclusterVersion + " (benchmark peer)",
			"org.opencontainers.image.source": "https://github.com/loft-sh/vcluster",
		},
	}
}

// importVClusterImage builds the peer's image into dir and imports it into the node.
func importVClusterImage(ctx context.Context, c *localcluster.Cluster, dir string) error {
	comp, err := vclusterComponent()
	if err != nil {
		return err
	}
	components, err := localcluster.ComponentsDir()
	if err != nil {
		return err
	}
	img, err := image.Build(vclusterImageSpec(filepath.Join(comp, "vcluster"), components, "/bin/busybox"))
	if err != nil {
		return fmt.Errorf("building the vcluster image: %w", err)
	}
	tar := filepath.Join(dir, image.TarballName(vclusterImage))
	if err := image.WriteTarball(tar, vclusterImage, img); err != nil {
		return err
	}
	return c.ImportImage(ctx, tar)
}
