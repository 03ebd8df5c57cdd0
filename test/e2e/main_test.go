package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tenantry/tenantry/test/cluster"
)

// host is the host control plane with its real node; nil when the node cannot start here.
var host *cluster.Cluster

// unavailable says why the node cannot start here; every test skips with it.
var unavailable error

func TestMain(m *testing.M) {
	if os.Getenv("TENANTRY_E2E") == "0" {
		unavailable = fmt.Errorf("TENANTRY_E2E=0")
	} else if unavailable = cluster.NodeAvailable(); unavailable == nil {
		os.Exit(run(m))
	}
	fmt.Fprintf(os.Stderr, "e2e: skipping the tier, the real node cannot start here:\n%v\n", unavailable)
	os.Exit(m.Run())
}

// run starts the host control plane with its node, runs the tests, and fails the tier if
// the node's clean-up left anything behind (namespace, mounts, shims, cgroups).
func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{Node: true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the control plane and node: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: control plane %s and node ready in %s", c.Version, c.StartupTime.Round(time.Millisecond))
	for _, p := range c.Phases {
		fmt.Fprintf(os.Stderr, "; %s at %s", p.Name, p.Ready.Round(time.Millisecond))
	}
	fmt.Fprintln(os.Stderr)
	host = c
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: tests failed; component logs follow\n%s", c.Logs(60))
	}
	began := time.Now()
	c.Cleanup()
	fmt.Fprintf(os.Stderr, "e2e: node and control plane removed in %s\n", time.Since(began).Round(time.Millisecond))
	if err := c.NodeCleanupError(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	return code
}

// requireNode skips the test, naming what is missing, when the node cannot start here.
func requireNode(t *testing.T) {
	t.Helper()
	if unavailable != nil {
		t.Skipf("e2e tier needs a real node, which cannot start here: %v (see `make test-e2e`)", unavailable)
	}
}
