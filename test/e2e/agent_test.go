package e2e

import (
	"testing"
	"time"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/test/framework"
)

// tenantYAML is a tenant with a virtual cluster on minor whose data sits on an emptyDir
// (size 0, the fastest start), then opts. Containers request 50m CPU by default, so the
// tier's tenants fit on the node's 2 CPUs.
func tenantYAML(name, minor string, opts ...framework.TenantOption) string {
	return framework.TenantYAML(name, append([]framework.TenantOption{framework.Version(minor),
		framework.Persistence("0"), framework.CPU("8"), framework.DefaultRequest("cpu", "50m")}, opts...)...)
}

// syncTenant commits the tenant file to a fresh repo and runs one pass of an agent that
// rolls out virtual clusters with the locally imported image; the pass waits for the
// control plane's rollout. It returns the agent and the time from commit to pass end.
func syncTenant(t *testing.T, name, body string) (*reconciler.Agent, time.Duration) {
	t.Helper()
	g := newGitAgent(t, "e2e-"+name)
	began := time.Now()
	g.commit(name, body)
	g.SyncOK()
	return g.Agent, time.Since(began)
}

// readyTenant returns the host Tenant and fails unless it is Ready with a control plane.
func readyTenant(t *testing.T, a *reconciler.Agent, name string) *v1alpha1.Tenant {
	t.Helper()
	tn := framework.RequireTenant(t, a.Client(), name)
	c := framework.Condition(tn, v1alpha1.ConditionReady)
	if c == nil || c.Status != "True" || tn.Status.ControlPlane == nil || !tn.Status.ControlPlane.Ready {
		t.Fatalf("tenant %s not Ready: %+v, control plane %+v", name, c, tn.Status.ControlPlane)
	}
	return tn
}
