package charts_test

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/charts"
	"github.com/tenantry/tenantry/policy/guards"
)

func fixedRoleNames(t *testing.T) []string {
	t.Helper()
	roles, err := charts.ClusterRoles()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.GetName())
	}
	if !slices.Contains(names, charts.AgentTenantRole) || len(names) < 6 {
		t.Fatalf("fixed ClusterRoles %v", names)
	}
	return names
}

// roleRefs lists "Kind/name->ClusterRole" for every binding of kind.
func roleRefs(objs []*unstructured.Unstructured, kind string) []string {
	var out []string
	for _, o := range objs {
		if o.GetKind() == kind {
			name, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
			out = append(out, name)
		}
	}
	return out
}

// TestVClusterOnlyBindsFixedClusterRoles: the vcluster chart grants its syncer nothing
// itself (no Role, no ClusterRole), only bindings to the fixed roles, and each optional
// kind adds exactly its binding.
func TestVClusterOnlyBindsFixedClusterRoles(t *testing.T) {
	nodes := v1alpha1.SyncNodes{Enabled: true}
	for _, tc := range []struct {
		name    string
		sync    v1alpha1.Sync
		rb, crb []string
	}{
		{"none", v1alpha1.Sync{}, []string{"tenantry-vcluster-syncer"}, nil},
		{"ingresses", v1alpha1.Sync{Ingresses: true}, []string{"tenantry-vcluster-syncer", "tenantry-vcluster-ingresses"}, nil},
		{"network policies", v1alpha1.Sync{NetworkPolicies: true}, []string{"tenantry-vcluster-syncer", "tenantry-vcluster-networkpolicies"}, nil},
		{"nodes", v1alpha1.Sync{Nodes: nodes}, []string{"tenantry-vcluster-syncer"}, []string{"tenantry-vcluster-nodes"}},
		{"storage classes", v1alpha1.Sync{HostStorageClasses: true}, []string{"tenantry-vcluster-syncer"}, []string{"tenantry-vcluster-storageclasses"}},
		{"all", v1alpha1.Sync{Ingresses: true, NetworkPolicies: true, HostStorageClasses: true, Nodes: nodes},
			[]string{"tenantry-vcluster-syncer", "tenantry-vcluster-ingresses", "tenantry-vcluster-networkpolicies"},
			[]string{"tenantry-vcluster-nodes", "tenantry-vcluster-storageclasses"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := renderTenant(t, tenant(func(tn *v1alpha1.Tenant) { tn.Spec.Sync = tc.sync }))
			if find(objs, "Role") != nil || find(objs, "ClusterRole") != nil {
				t.Fatalf("the vcluster chart renders a role of its own: %v", kinds(objs))
			}
			gotRB, gotCRB := roleRefs(objs, "RoleBinding"), roleRefs(objs, "ClusterRoleBinding")
			slices.Sort(gotRB)
			slices.Sort(gotCRB)
			slices.Sort(tc.rb)
			if !slices.Equal(gotRB, tc.rb) || !slices.Equal(gotCRB, tc.crb) {
				t.Fatalf("RoleBindings to %v, ClusterRoleBindings to %v; want %v, %v", gotRB, gotCRB, tc.rb, tc.crb)
			}
			for _, n := range append(gotRB, gotCRB...) {
				if !slices.Contains(fixedRoleNames(t), n) {
					t.Errorf("binding to %s, which charts/tenantry does not ship", n)
				}
			}
		})
	}
}

// agentClusterRole renders the tenantry chart's ClusterRole (the agent's cluster-wide rights).
func agentClusterRole(t *testing.T) []map[string]any {
	t.Helper()
	objs := mustRender(t, charts.Tenantry, charts.Release{Name: "tenantry", Namespace: "tenantry-system"}, nil)
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" && o.GetName() == "tenantry" {
			rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
			var out []map[string]any
			for _, r := range rules {
				out = append(out, r.(map[string]any))
			}
			return out
		}
	}
	t.Fatal("no ClusterRole tenantry")
	return nil
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// TestAgentClusterRoleIsLeast: cluster-wide, the agent holds no Secrets, Pods,
// workloads or Roles, cannot create or escalate roles, binds only the fixed ClusterRoles
// (all of them) and updates only its own CRD.
func TestAgentClusterRoleIsLeast(t *testing.T) {
	forbidden := []string{"secrets", "pods", "statefulsets", "serviceaccounts", "configmaps", "roles", "*"}
	var bind []string
	for _, r := range agentClusterRole(t) {
		res, verbs := strs(r["resources"]), strs(r["verbs"])
		names := []string{}
		if r["resourceNames"] != nil {
			names = strs(r["resourceNames"])
		}
		groups := strs(r["apiGroups"])
		for _, f := range forbidden {
			if slices.Contains(res, f) && !slices.Contains(groups, "constraints.gatekeeper.sh") {
				t.Errorf("cluster-wide %v on %s", verbs, f)
			}
		}
		if slices.Contains(res, "clusterroles") {
			if !slices.Equal(verbs, []string{"bind"}) {
				t.Errorf("clusterroles verbs %v, want bind only", verbs)
			}
			bind = append(bind, names...)
		}
		if slices.Contains(res, "customresourcedefinitions") && (slices.Contains(verbs, "update") || slices.Contains(verbs, "patch")) &&
			!slices.Equal(names, []string{"tenants.tenantry.dev"}) {
			t.Errorf("CRD %v on %v, want only tenants.tenantry.dev", verbs, names)
		}
		if slices.Contains(verbs, "escalate") || slices.Contains(verbs, "impersonate") || slices.Contains(verbs, "*") {
			t.Errorf("verbs %v on %v", verbs, res)
		}
	}
	slices.Sort(bind)
	if want := fixedRoleNames(t); !slices.Equal(bind, want) {
		t.Fatalf("bind on %v, want exactly the fixed ClusterRoles %v", bind, want)
	}
}

// TestFixedClusterRolesHoldNoSecretsForTheAgent: the role the agent binds itself in a
// tenant namespace grants no Secrets and no pod creation; the cluster-wide ones are read-only.
func TestFixedClusterRolesHoldNoSecretsForTheAgent(t *testing.T) {
	roles, err := charts.ClusterRoles()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		rules, _, _ := unstructured.NestedSlice(r.Object, "rules")
		for _, raw := range rules {
			rule := raw.(map[string]any)
			res, verbs := strs(rule["resources"]), strs(rule["verbs"])
			switch {
			case r.GetName() == charts.AgentTenantRole && slices.Contains(res, "secrets"):
				t.Errorf("%s grants secrets", r.GetName())
			case r.GetName() == charts.AgentTenantRole && slices.Contains(res, "pods") && slices.Contains(verbs, "create"):
				t.Errorf("%s grants creating pods", r.GetName())
			case strings.HasSuffix(r.GetName(), "-nodes") || strings.HasSuffix(r.GetName(), "-storageclasses"):
				if !slices.Equal(verbs, []string{"get", "list", "watch"}) {
					t.Errorf("%s: verbs %v, want read-only", r.GetName(), verbs)
				}
			}
		}
	}
}

// TestChartShipsTheFixedClusterRoles: the tenantry chart renders each fixed ClusterRole
// exactly as the agent embeds it.
func TestChartShipsTheFixedClusterRoles(t *testing.T) {
	objs := mustRender(t, charts.Tenantry, charts.Release{Name: "tenantry", Namespace: "tenantry-system"}, nil)
	roles, err := charts.ClusterRoles()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range roles {
		var got *unstructured.Unstructured
		for _, o := range objs {
			if o.GetKind() == "ClusterRole" && o.GetName() == want.GetName() {
				got = o
			}
		}
		if got == nil {
			t.Fatalf("the chart does not render %s", want.GetName())
		}
		if a, b := string(marshalAll(t, []*unstructured.Unstructured{got})), string(marshalAll(t, []*unstructured.Unstructured{want})); a != b {
			t.Errorf("%s differs:\n%s\nvs\n%s", want.GetName(), a, b)
		}
	}
}

// TestAgentMayChangeOnlyTheGuards: the agent's update, patch and delete on admission
// policies name exactly policy/guards' objects.
func TestAgentMayChangeOnlyTheGuards(t *testing.T) {
	var names []string
	for _, r := range agentClusterRole(t) {
		if slices.Contains(strs(r["resources"]), "validatingadmissionpolicies") && slices.Contains(strs(r["verbs"]), "update") {
			if r["resourceNames"] == nil {
				t.Fatal("update on every ValidatingAdmissionPolicy")
			}
			names = append(names, strs(r["resourceNames"])...)
		}
	}
	slices.Sort(names)
	if want := guards.Names(); !slices.Equal(names, want) {
		t.Fatalf("the chart lets the agent change the admission policies %v, want policy/guards.Names() %v (charts/tenantry/templates/_helpers.tpl tenantry.guardNames)", names, want)
	}
}
