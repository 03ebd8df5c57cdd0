package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// componentsDir is the repo's bin/components, as `make components` leaves it.
func componentsDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "bin", "components"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range v1alpha1.SupportedKubernetesVersions {
		for _, p := range []string{"kubernetes-" + v + "/kube-apiserver", "kubernetes-" + v + "/kube-controller-manager", "kine/kine"} {
			if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
				t.Skipf("bin/components is missing %s (run `make components`): %v", p, err)
			}
		}
	}
	return dir
}

// TestImagesFromComponents builds every image with BuildAll from the real components
// (stand-ins for tenantry and tenantry-vcluster, which have their own tests), reads each
// tarball back, and runs the extracted kube-apiserver and kine to check their versions.
func TestImagesFromComponents(t *testing.T) {
	components := componentsDir(t)
	dir := t.TempDir()
	began := time.Now()
	built, err := BuildAll(context.Background(), Options{OutDir: filepath.Join(dir, "images"), Version: "v0.0.1-test",
		Components: components, AgentBinary: standIn(t, dir, "tenantry", "agent"), VClusterBinary: standIn(t, dir, "tenantry-vcluster", "vcluster")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d images in %s", len(built), time.Since(began).Round(time.Millisecond))
	if len(built) != 1+len(v1alpha1.SupportedKubernetesVersions) || built[0].Ref != "tenantry:v0.0.1-test" {
		t.Fatalf("built %+v", built)
	}
	for _, b := range built[1:] {
		t.Run(b.Ref, func(t *testing.T) { checkVClusterImage(t, b) })
	}
}

func checkVClusterImage(t *testing.T, b Built) {
	version := strings.TrimPrefix(b.Ref, "tenantry-vcluster:")
	img := load(t, b.Path, b.Ref)
	if d, err := img.Digest(); err != nil || d.String() != b.Digest {
		t.Fatalf("digest read back %v (%v), built %s", d, err, b.Digest)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/tenantry-vcluster", "--config", "/etc/tenantry/vcluster.yaml"}; !reflect.DeepEqual(cf.Config.Entrypoint, want) || cf.Config.User != "65532:65532" {
		t.Fatalf("entrypoint %v user %q", cf.Config.Entrypoint, cf.Config.User)
	}
	fs := t.TempDir()
	hdrs := unpack(t, img, fs)
	checkEntries(t, hdrs, map[string]entry{
		"tenantry-vcluster": {mode: 0o755}, "usr": {mode: 0o755, dir: true}, "usr/local": {mode: 0o755, dir: true},
		"usr/local/bin": {mode: 0o755, dir: true}, "usr/local/bin/kube-apiserver": {mode: 0o755},
		"usr/local/bin/kube-controller-manager": {mode: 0o755}, "usr/local/bin/kine": {mode: 0o755},
		"data": {mode: 0o750, uid: NonRoot, dir: true}, "tmp": {mode: 0o1777, dir: true},
		"etc": {mode: 0o755, dir: true}, "etc/tenantry": {mode: 0o755, dir: true},
		"etc/passwd": {mode: 0o644}, "etc/group": {mode: 0o644},
	})
	runs := []struct{ bin, want string }{
		{"usr/local/bin/kube-apiserver", "Kubernetes " + version},
		{"usr/local/bin/kube-controller-manager", "Kubernetes " + version},
		{"usr/local/bin/kine", "kine version v0.17.5"},
		{"tenantry-vcluster", "vcluster"},
	}
	for _, r := range runs {
		out, err := exec.Command(filepath.Join(fs, r.bin), "--version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), r.want) {
			t.Errorf("/%s --version: %q (%v), want %q", r.bin, out, err, r.want)
		}
	}
}
