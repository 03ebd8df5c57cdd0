package vcluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantry/tenantry/test/cluster"
)

var (
	// host is the host control plane every test shares.
	host *cluster.Cluster
	// vclusterBin is cmd/tenantry-vcluster, built once.
	vclusterBin string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tenantry-vcluster-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	vclusterBin = filepath.Join(dir, "tenantry-vcluster")
	began := time.Now()
	build := exec.Command("go", "build", "-o", vclusterBin, "github.com/tenantry/tenantry/cmd/tenantry-vcluster")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building tenantry-vcluster:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "built tenantry-vcluster in %s\n", time.Since(began).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if host, err = cluster.Start(ctx, cluster.Options{}); err != nil {
		fmt.Fprintln(os.Stderr, "test bed:", err)
		return 1
	}
	defer host.Cleanup()
	fmt.Fprintf(os.Stderr, "test bed: host %s ready in %s\n", host.Version, host.StartupTime.Round(time.Millisecond))
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "host component logs:\n%s", host.Logs(40))
	}
	return code
}
