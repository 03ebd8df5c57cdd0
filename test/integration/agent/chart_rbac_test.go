package agent_test

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/charts"
	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/status"
	"github.com/tenantry/tenantry/test/framework"
)

// TestAgentChartRBACIsEnough runs the agent as the ServiceAccount of charts/tenantry, bound
// to exactly the chart's rendered roles (and held to its agent-scope policy), and rolls out, pauses, resumes and
// deletes a tenant whose virtual cluster has the widest RBAC the vcluster chart renders
// (ingress, network policy, node and storage class sync). Kubernetes refuses a binding
// to a role its creator may not `bind`, and the agent's rights in the tenant namespace
// come from its own RoleBinding there, so this fails when the chart misses either.
func TestAgentChartRBACIsEnough(t *testing.T) {
	agentNS := host.NewNamespace(t)
	instance := "rbac-" + agentNS
	objs, err := charts.Render(charts.Tenantry, charts.Release{Name: "tenantry", Namespace: agentNS}, map[string]any{"instance": instance})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, reconciler.Options{})
	applyRBAC(t, e, objs, agentNS)
	cfg, err := host.ConfigFor("system:serviceaccount:" + agentNS + ":tenantry")
	if err != nil {
		t.Fatal(err)
	}
	e.Agent = framework.NewAgent(t, cfg, reconciler.Options{Instance: instance, VirtualClusters: true, HealthTimeout: time.Minute,
		Notifier: notify.Nop{}, RecordNamespace: agentNS})

	const name, ns = "rbac", "tenant-rbac"
	startKubelet(t, e.cs, ns)
	wide := []string{"  deletionPolicy: Delete", "  sync:", "    ingresses: true", "    networkPolicies: true",
		"    hostStorageClasses: true", "    nodes: {enabled: true}"}
	startKubelet(t, e.cs, "tenant-rbac-keep")
	e.Write("rbac-keep", framework.TenantYAML("rbac-keep")) // keeps tenants/ when rbac goes
	e.Write(name, framework.TenantYAML(name, framework.Spec(wide...)))
	if res := e.CommitAndSync("wide tenant"); res.Failed() {
		t.Fatalf("as the chart's ServiceAccount: %+v", res.Tenants)
	}
	e.RequireReady(name)
	if rev, err := status.AgentRevision(ctx, e.Agent.Client(), agentNS, instance); err != nil || rev == "" {
		t.Fatalf("the agent's record of its pass: %q, %v", rev, err)
	}
	createSyncedPod(t, e.cs, ns, name)
	e.Write(name, framework.TenantYAML(name, framework.Spec(append(wide, "  paused: true")...)))
	if res := e.CommitAndSync("pause"); res.Failed() {
		t.Fatalf("pausing as the chart's ServiceAccount: %+v", res.Tenants)
	}
	e.Write(name, framework.TenantYAML(name, framework.Spec(wide...)))
	if res := e.CommitAndSync("resume"); res.Failed() {
		t.Fatalf("resuming as the chart's ServiceAccount: %+v", res.Tenants)
	}
	e.RequireReady(name)
	e.Remove(name)
	if res := e.CommitAndSync("delete"); res.Failed() || len(res.Removed) != 1 {
		t.Fatalf("deleting as the chart's ServiceAccount: removed %v, %+v", res.Removed, res.Tenants)
	}
}

// applyRBAC creates the chart's ServiceAccount, roles, bindings and agent-scope policy as
// admin; those outside the agent's namespace are deleted when the test ends. The fixed
// ClusterRoles are shared: the admin agents of other tests apply them too (InstallCRDs),
// so one already there is kept.
func applyRBAC(t *testing.T, e *env, objs []*unstructured.Unstructured, agentNS string) {
	t.Helper()
	c := e.Agent.Client()
	for _, o := range objs {
		switch o.GetKind() {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
			"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding":
		default:
			continue
		}
		err := c.Create(ctx, o)
		if apierrors.IsAlreadyExists(err) && isFixedClusterRole(t, o) {
			continue
		}
		if err != nil {
			t.Fatalf("creating %s %s: %v", o.GetKind(), o.GetName(), err)
		}
		if o.GetNamespace() != agentNS && !isFixedClusterRole(t, o) {
			t.Cleanup(func() { _ = c.Delete(context.Background(), o) })
		}
	}
}

// isFixedClusterRole reports whether o is one of charts.ClusterRoles.
func isFixedClusterRole(t *testing.T, o *unstructured.Unstructured) bool {
	t.Helper()
	roles, err := charts.ClusterRoles()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if o.GetKind() == "ClusterRole" && o.GetName() == r.GetName() {
			return true
		}
	}
	return false
}
