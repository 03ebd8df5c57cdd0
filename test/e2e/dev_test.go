package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/cli"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/status"
	"github.com/tenantry/tenantry/test/framework"
)

// TestDevNodeAsShipped runs `tenantry dev --node` as the README gives it (`make dev NODE=1`:
// tenants-example, Gatekeeper, virtual clusters on, nothing set by hand) and, in the
// virtual cluster of the first example tenant, does what issue 16's held-out scenario did:
// 20 Services reach the host with their ClusterIP and a client pod reaches each by name.
// It runs its own control plane and node, so the tier's shared node is stopped first.
func TestDevNodeAsShipped(t *testing.T) {
	requireNodeAvailable(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	if err := stopShared(false); err != nil {
		t.Fatalf("stopping the shared node before dev starts its own: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &framework.Buffer{}
	env, err := cli.StartDev(ctx, out, cli.DevOptions{Tenants: "../../tenants-example", Gatekeeper: true, Node: true,
		VirtualClusters: true, Timeout: 3 * time.Minute, Interval: 5 * time.Second, DriftInterval: 30 * time.Second})
	if err != nil {
		t.Fatalf("tenantry dev --node: %v\n%s", err, out)
	}
	host = &framework.Cluster{Cluster: env.Cluster}
	done := make(chan error, 1)
	go func() { done <- env.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("tenantry dev returned: %v", err)
		}
		host = nil
		env.Close()
		if err := env.Cluster.NodeCleanupError(); err != nil {
			t.Errorf("tenantry dev's node left something behind: %v", err)
		}
		if t.Failed() {
			t.Logf("tenantry dev printed:\n%s", out)
		}
	})

	tn := waitTenantsReady(t, env.Agent.Client(), 4*time.Minute, "team-a", "team-b", "team-c")
	ns := tn.HostNamespace()
	dumpPodLogsOnFailure(t, ns)
	virtual := virtualClient(t, ns, render.VClusterName(tn), render.KubeconfigSecretName(tn))
	urls := createServices(t, virtual)
	requireSameClusterIPs(t, virtual, ns, tn.Name)
	waitPodsRunning(t, virtual, "default", "app=echo", 1)
	out2 := runVirtualClient(t, virtual, ns, tn.Name, "client", urls...)
	for _, u := range urls {
		if !strings.Contains(out2, "GET "+u+": 200 OK") {
			t.Fatalf("the client did not reach %s:\n%s", u, out2)
		}
	}
}

// waitTenantsReady waits up to within until every named tenant, as c reads it, is Ready
// with its control plane ready, and returns the first.
func waitTenantsReady(t *testing.T, c client.Client, within time.Duration, names ...string) *v1alpha1.Tenant {
	t.Helper()
	var first *v1alpha1.Tenant
	framework.Eventually(t, within, "the tenants Ready with their control planes", func() (bool, error) {
		all, err := status.ListTenants(context.Background(), c)
		if err != nil {
			return false, err
		}
		ready := map[string]*v1alpha1.Tenant{}
		for i := range all {
			c := apimeta.FindStatusCondition(all[i].Status.Conditions, v1alpha1.ConditionReady)
			if c != nil && c.Status == metav1.ConditionTrue && all[i].Status.ControlPlane != nil && all[i].Status.ControlPlane.Ready {
				ready[all[i].Name] = &all[i]
			}
		}
		for _, n := range names {
			if ready[n] == nil {
				return false, errors.New(n + " is not Ready yet")
			}
		}
		first = ready[names[0]]
		return true, nil
	})
	return first
}
