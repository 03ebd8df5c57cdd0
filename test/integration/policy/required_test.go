package policy_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRequiredPolicyCannotBeSwitchedOff: a tenant file listing a template defaults.yaml
// requires, with enforcementAction dryrun, is refused with file:line, and the required
// constraint stays deny: Gatekeeper still denies a NodePort in the tenant's namespace.
func TestRequiredPolicyCannotBeSwitchedOff(t *testing.T) {
	e := newEnv(t)
	defaults := "apiVersion: tenantry.dev/v1alpha1\nkind: TenantDefaults\nspec:\n" +
		"  tenantExceptions: [{tenants: ['*'], allowIsolationNone: true}]\n" +
		"  requiredPolicies: [{template: K8sBlockNodePort}]\n"
	e.WriteFile("defaults.yaml", defaults)
	commitAndSync(t, e, map[string]string{"req-a": tenantFile("req-a", "")})
	action := func() string {
		t.Helper()
		cons := selected(t, "tenant-req-a", nodePortGVR)
		if len(cons) != 1 {
			t.Fatalf("tenant-req-a selects %d block-NodePort constraints, want the required one", len(cons))
		}
		a, _, _ := unstructured.NestedString(cons[0].Object, "spec", "enforcementAction")
		return cons[0].GetName() + "/" + cons[0].GetResourceVersion() + "/" + a
	}
	before := action()
	if !strings.HasSuffix(before, "/") && !strings.HasSuffix(before, "/deny") {
		t.Fatalf("required constraint's enforcementAction: %s", before)
	}

	weakened := tenantFile("req-a", "  policies:\n  - template: K8sBlockNodePort\n    enforcementAction: dryrun\n")
	e.Write("req-a", weakened)
	e.Commit("switch the required policy to dryrun")
	res := e.Sync()
	want := `tenants/req-a.yaml:13: spec.policies[0].enforcementAction: K8sBlockNodePort is required by defaults.yaml with enforcementAction "deny"`
	if len(res.Invalid) != 1 || !strings.Contains(res.Invalid[0].Errors.Error(), want) {
		t.Fatalf("invalid = %+v, want an error containing %q", res.Invalid, want)
	}
	if after := action(); after != before {
		t.Fatalf("the required constraint changed: %s -> %s", before, after)
	}
	err := createNodePort(host.Clientset(t), "tenant-req-a")
	if err == nil || !strings.Contains(err.Error(), "type NodePort is not allowed") {
		t.Fatalf("NodePort in tenant-req-a: %v, want a Gatekeeper denial", err)
	}
}
