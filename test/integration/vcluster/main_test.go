package vcluster_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/test/framework"
)

// host is the host control plane every test shares.
var host *framework.Cluster

func TestMain(m *testing.M) {
	framework.Main(m, localcluster.Options{}, &host)
}

// vclusterBuild is cmd/tenantry-vcluster, built once, into the host's directory (removed
// with it).
var vclusterBuild struct {
	once sync.Once
	path string
	err  error
}

// vclusterBin is the path of cmd/tenantry-vcluster, built on first use.
func vclusterBin(t *testing.T) string {
	t.Helper()
	vclusterBuild.once.Do(func() {
		vclusterBuild.path = filepath.Join(host.Dir, "bin", "tenantry-vcluster")
		began := time.Now()
		build := exec.Command("go", "build", "-o", vclusterBuild.path, "github.com/tenantry/tenantry/cmd/tenantry-vcluster")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		vclusterBuild.err = build.Run()
		t.Logf("built tenantry-vcluster in %s", time.Since(began).Round(time.Millisecond))
	})
	if vclusterBuild.err != nil {
		t.Fatalf("building tenantry-vcluster: %v", vclusterBuild.err)
	}
	return vclusterBuild.path
}
