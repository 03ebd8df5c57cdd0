package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler"
)

// quietControllerRuntime gives controller-runtime's global logger a sink once.
var quietControllerRuntime sync.Once

// tenantYAML is a tenant with a virtual cluster on minor whose data sits on an emptyDir
// (size 0, the fastest start). Containers request 50m CPU by default, so the tier's
// tenants fit on the node's 2 CPUs.
func tenantYAML(name, minor string) string {
	return fmt.Sprintf(`apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: %s
spec:
  kubernetesVersion: %q
  owners:
  - kind: User
    name: %s-owner
  persistence:
    size: "0"
  quota:
    pods: "10"
    cpu: "8"
  limits:
    default:
      cpu: 500m
    defaultRequest:
      cpu: 50m
`, name, minor, name)
}

// syncTenant commits the tenant file to a fresh repo and runs one pass of an agent that
// rolls out virtual clusters with the locally imported image; the pass waits for the
// control plane's rollout. It returns the agent and the time from commit to pass end.
func syncTenant(t *testing.T, name, body string) (*reconciler.Agent, time.Duration) {
	t.Helper()
	g := newGitAgent(t, "e2e-"+name)
	began := time.Now()
	g.commit(name, body)
	g.sync()
	return g.agent, time.Since(began)
}

// readyTenant returns the host Tenant and fails unless it is Ready with a control plane.
func readyTenant(t *testing.T, a *reconciler.Agent, name string) *v1alpha1.Tenant {
	t.Helper()
	tn := findTenant(t, a, name)
	c := apimeta.FindStatusCondition(tn.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil || c.Status != "True" || tn.Status.ControlPlane == nil || !tn.Status.ControlPlane.Ready {
		t.Fatalf("tenant %s not Ready: %+v, control plane %+v", name, c, tn.Status.ControlPlane)
	}
	return tn
}

// findTenant returns the host Tenant name, failing the test when there is none.
func findTenant(t *testing.T, a *reconciler.Agent, name string) *v1alpha1.Tenant {
	t.Helper()
	all, err := reconciler.ListTenants(context.Background(), a.Client())
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i]
		}
	}
	t.Fatalf("no Tenant %s", name)
	return nil
}
