package render_test

import (
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

func template(kind, matchKinds string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"crd": map[string]any{
		"spec": map[string]any{"names": map[string]any{"kind": kind}}}}}}
	u.SetName(strings.ToLower(kind))
	if matchKinds != "" {
		u.SetAnnotations(map[string]string{render.AnnotationMatchKinds: matchKinds})
	}
	return u
}

func TestConstraintsAreScopedToTheTenantNamespace(t *testing.T) {
	templates := map[string]*unstructured.Unstructured{
		"K8sBlockNodePort": template("K8sBlockNodePort", `[{"apiGroups":[""],"kinds":["Service"]}]`),
		"K8sAllowedRepos":  template("K8sAllowedRepos", ""),
	}
	tn := &v1alpha1.Tenant{}
	tn.Name = "team-a"
	tn.Spec.Policies = []v1alpha1.Policy{
		{Template: "K8sBlockNodePort"},
		{Template: "K8sAllowedRepos", EnforcementAction: "warn", Parameters: &apiextensionsv1.JSON{Raw: []byte(`{"repos":["r/"]}`)}},
		{Template: "K8sAllowedRepos", Parameters: &apiextensionsv1.JSON{Raw: []byte(`{"repos":["s/"]}`)}},
	}
	got, err := render.Constraints(tn, templates)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"team-a-k8sblocknodeport", "team-a-k8sallowedrepos", "team-a-k8sallowedrepos-2"}
	for i, c := range got {
		if c.GetName() != wantNames[i] || c.GetAPIVersion() != render.ConstraintAPIVersion {
			t.Errorf("constraint %d: %s %s", i, c.GetAPIVersion(), c.GetName())
		}
		ns, _, _ := unstructured.NestedStringSlice(c.Object, "spec", "match", "namespaces")
		scope, _, _ := unstructured.NestedString(c.Object, "spec", "match", "scope")
		if len(ns) != 1 || ns[0] != "tenant-team-a" || scope != "Namespaced" {
			t.Errorf("%s: match %v %s", c.GetName(), ns, scope)
		}
	}
	if kinds, _, _ := unstructured.NestedSlice(got[0].Object, "spec", "match", "kinds"); len(kinds) != 1 {
		t.Errorf("match kinds from the template annotation: %v", kinds)
	}
	if action, _, _ := unstructured.NestedString(got[1].Object, "spec", "enforcementAction"); action != "warn" {
		t.Errorf("enforcementAction %q", action)
	}
	if repos, _, _ := unstructured.NestedStringSlice(got[2].Object, "spec", "parameters", "repos"); len(repos) != 1 || repos[0] != "s/" {
		t.Errorf("parameters %v", repos)
	}
	tn.Spec.Policies = []v1alpha1.Policy{{Template: "K8sMissing"}}
	if _, err := render.Constraints(tn, templates); err == nil || !strings.Contains(err.Error(), "spec.policies[0].template") {
		t.Fatalf("missing template: %v", err)
	}
}
