// Package framework is the test framework shared by all test tiers: it runs a test package
// against a local cluster (internal/localcluster) and adds the helpers that need testing.
package framework

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// Cluster is a local cluster with the helpers tests use on it.
type Cluster struct{ *localcluster.Cluster }

// Start starts a local cluster (see localcluster.Start); the test stops it.
func Start(ctx context.Context, opts localcluster.Options) (*Cluster, error) {
	c, err := localcluster.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Cluster{c}, nil
}

// Main runs a test package against one control plane started for it: it starts the
// cluster, stores it in *into, runs the tests, attaches component logs when they fail,
// and stops every process before exiting.
func Main(m *testing.M, opts localcluster.Options, into **Cluster) {
	os.Exit(run(m, opts, into))
}

func run(m *testing.M, opts localcluster.Options, into **Cluster) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "test bed: starting the control plane: %v\n", err)
		return 1
	}
	defer c.Cleanup()
	fmt.Fprintf(os.Stderr, "test bed: control plane %s ready in %s (gatekeeper: %v)",
		c.Version, c.StartupTime.Round(time.Millisecond), opts.Gatekeeper)
	for _, p := range c.Phases {
		fmt.Fprintf(os.Stderr, "; %s at %s", p.Name, p.Ready.Round(time.Millisecond))
	}
	fmt.Fprintln(os.Stderr)
	*into = c
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "test bed: tests failed; component logs follow\n%s", c.Logs(60))
	}
	return code
}

// NewNamespace creates a fresh namespace for one test, waits for its default ServiceAccount
// when a controller manager runs, and deletes it when the test ends.
func (c *Cluster) NewNamespace(t testing.TB) string {
	t.Helper()
	cs := c.Clientset(t)
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(name) > 40 {
		name = name[:40]
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: strings.TrimRight(name, "-") + "-"}}
	created, err := cs.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating test namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), created.Name, metav1.DeleteOptions{})
	})
	if c.HasControllerManager() {
		if err := c.WaitForServiceAccount(context.Background(), created.Name); err != nil {
			t.Fatal(err)
		}
	}
	return created.Name
}

// Clientset returns an admin clientset.
func (c *Cluster) Clientset(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatalf("admin clientset: %v", err)
	}
	return cs
}

// Client returns an admin controller-runtime client (unstructured objects, such as Tenants
// for status.ListTenants).
func (c *Cluster) Client(t testing.TB) client.Client {
	t.Helper()
	quietControllerRuntime.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	cl, err := client.New(c.Config, client.Options{})
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	return cl
}

// Eventually polls cond every 100ms until it returns true or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
}
