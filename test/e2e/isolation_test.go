package e2e

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/tenantry/tenantry/reconciler/render"
)

// TestTenantsAreIsolatedOnNode rolls out two tenants with the default isolation. A pod in
// the first tenant's virtual cluster reaches its echo pod by pod IP and by ClusterIP; a
// pod in the second tenant's virtual cluster reaches neither, because the agent's
// NetworkPolicies, enforced on the node, deny traffic from other namespaces.
func TestTenantsAreIsolatedOnNode(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	g := newGitAgent(t, "e2e-isolation")
	g.commit("node-i1", tenantYAML("node-i1", "1.37"))
	g.commit("node-i2", tenantYAML("node-i2", "1.37"))
	g.SyncOK()
	t1, t2 := readyTenant(t, g.Agent, "node-i1"), readyTenant(t, g.Agent, "node-i2")
	dumpPodLogsOnFailure(t, t1.HostNamespace())
	dumpPodLogsOnFailure(t, t2.HostNamespace())
	v1 := virtualClient(t, t1.HostNamespace(), render.VClusterName(t1), render.KubeconfigSecretName(t1))
	v2 := virtualClient(t, t2.HostNamespace(), render.VClusterName(t2), render.KubeconfigSecretName(t2))
	vpods, svcIP := runEcho(t, v1, 1)
	podURL, svcURL := "http://"+vpods[0].Status.PodIP+":8080/same", "http://"+svcIP+"/same"

	log := runVirtualClient(t, v1, t1.HostNamespace(), t1.Name, "inside", podURL, svcURL)
	for _, u := range []string{podURL, svcURL} {
		if !strings.Contains(log, "GET "+u+": 200 OK") {
			t.Fatalf("a pod of the same tenant did not reach %s:\n%s", u, log)
		}
	}
	requireNetworkPolicyEnforced(t)
	for i, u := range []string{podURL, svcURL} {
		name := []string{"outside-pod-ip", "outside-cluster-ip"}[i]
		log, phase := runVirtualClientPhase(t, v2, t2.HostNamespace(), t2.Name, name, "-retry=5s", u)
		if phase != corev1.PodFailed || strings.Contains(log, ": 200 OK") {
			t.Fatalf("a pod of tenant %s reached tenant %s's echo at %s (%s):\n%s", t2.Name, t1.Name, u, phase, log)
		}
		t.Logf("tenant %s's pod is refused %s: %s", t2.Name, u, lastLine(log))
	}
}
