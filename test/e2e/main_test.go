package e2e

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/test/framework"
)

// host is the host control plane with its real node that tests use; nil until a test
// needs it (requireNode starts the shared one) or while a test runs its own (the dev test).
var host *framework.Cluster

// unavailable says why the node cannot start here; every test skips with it.
var unavailable error

// shared is the node the tier's tests share, started on first use. Only one node runs at
// a time: a test that starts its own stops the shared one first (stopShared).
var shared struct {
	mu      sync.Mutex
	c       *framework.Cluster
	err     error
	cleanup error // what a stopped node left behind
}

func TestMain(m *testing.M) {
	if os.Getenv("TENANTRY_E2E") == "0" {
		unavailable = fmt.Errorf("TENANTRY_E2E=0")
	} else {
		unavailable = localcluster.NodeAvailable()
	}
	if unavailable != nil {
		fmt.Fprintf(os.Stderr, "e2e: skipping the tier, the real node cannot start here:\n%v\n", unavailable)
		os.Exit(m.Run())
	}
	code := m.Run()
	if err := stopShared(code != 0); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		code = 1
	}
	if shared.cleanup != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", shared.cleanup)
		code = 1
	}
	os.Exit(code)
}

// requireNode skips the test, naming what is missing, when the node cannot start here, and
// otherwise starts the shared control plane and node on first use.
func requireNode(t *testing.T) {
	t.Helper()
	requireNodeAvailable(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.c == nil && shared.err == nil {
		shared.c, shared.err = startNode()
	}
	if shared.err != nil {
		t.Fatalf("starting the control plane and node: %v", shared.err)
	}
	host = shared.c
}

// requireNodeAvailable skips the test when the node cannot start here.
func requireNodeAvailable(t *testing.T) {
	t.Helper()
	if unavailable != nil {
		t.Skipf("e2e tier needs a real node, which cannot start here: %v (see `make test-e2e`)", unavailable)
	}
}

func startNode() (*framework.Cluster, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := framework.Start(ctx, localcluster.Options{Node: true})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "e2e: control plane %s and node ready in %s", c.Version, c.StartupTime.Round(time.Millisecond))
	for _, p := range c.Phases {
		fmt.Fprintf(os.Stderr, "; %s at %s", p.Name, p.Ready.Round(time.Millisecond))
	}
	fmt.Fprintln(os.Stderr)
	return c, nil
}

// stopShared removes the shared node, if it runs (printing component logs first when
// failed), and returns what its clean-up left behind.
func stopShared(failed bool) error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	c := shared.c
	if c == nil {
		return nil
	}
	if failed {
		fmt.Fprintf(os.Stderr, "e2e: tests failed; component logs follow\n%s", c.Logs(60))
	}
	began := time.Now()
	c.Cleanup()
	shared.c, host = nil, nil
	fmt.Fprintf(os.Stderr, "e2e: node and control plane removed in %s\n", time.Since(began).Round(time.Millisecond))
	return c.NodeCleanupError()
}
