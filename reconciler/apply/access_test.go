package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/charts"
)

// TestAgentBindingGrantsOnlyTheTenantRole: the agent's RoleBinding is namespaced, names
// the fixed tenant role and the agent's own user, and carries no tenant label (it is not
// in any inventory, so pruning never removes the agent's access before what it grants).
func TestAgentBindingGrantsOnlyTheTenantRole(t *testing.T) {
	for _, tc := range []struct{ ns, user string }{
		{"tenant-a", "system:serviceaccount:tenantry-system:tenantry"},
		{"team-b", "admin"},
	} {
		rb := agentBinding(tc.ns, tc.user)
		str := func(path ...string) string { v, _, _ := unstructured.NestedString(rb.Object, path...); return v }
		subjects, _, _ := unstructured.NestedSlice(rb.Object, "subjects")
		switch {
		case rb.GetKind() != "RoleBinding" || rb.GetNamespace() != tc.ns || rb.GetName() != AgentBindingName:
			t.Errorf("%s %s/%s", rb.GetKind(), rb.GetNamespace(), rb.GetName())
		case str("roleRef", "kind") != "ClusterRole" || str("roleRef", "name") != charts.AgentTenantRole:
			t.Errorf("roleRef %v", rb.Object["roleRef"])
		case len(subjects) != 1 || subjects[0].(map[string]any)["name"] != tc.user || subjects[0].(map[string]any)["kind"] != "User":
			t.Errorf("subjects %v, want the user %s only", subjects, tc.user)
		case rb.GetLabels()["tenantry.dev/tenant"] != "":
			t.Errorf("labels %v: the binding must not be pruned with a tenant", rb.GetLabels())
		}
	}
}
