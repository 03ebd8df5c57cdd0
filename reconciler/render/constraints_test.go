package render_test

import (
	"reflect"
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

func policyTenant(name string, policies ...v1alpha1.Policy) *v1alpha1.Tenant {
	tn := &v1alpha1.Tenant{}
	tn.Name = name
	tn.Spec.Policies = policies
	return tn
}

func params(raw string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(raw)} }

// TestConstraintsAreSharedAndSelectTheirNamespaces: one constraint per (template, action,
// parameters) whatever the tenant; each selects the Namespaces labelled for it, and the
// tenant's rendered Namespace carries exactly its constraints' labels.
func TestConstraintsAreSharedAndSelectTheirNamespaces(t *testing.T) {
	templates := map[string]*unstructured.Unstructured{
		"K8sBlockNodePort": template("K8sBlockNodePort", `[{"apiGroups":[""],"kinds":["Service"]}]`),
		"K8sAllowedRepos":  template("K8sAllowedRepos", ""),
	}
	a := policyTenant("team-a", v1alpha1.Policy{Template: "K8sBlockNodePort"},
		v1alpha1.Policy{Template: "K8sAllowedRepos", EnforcementAction: "warn", Parameters: params(`{"repos":["r/"]}`)},
		v1alpha1.Policy{Template: "K8sAllowedRepos", Parameters: params(`{"repos":["s/"]}`)},
		v1alpha1.Policy{Template: "K8sBlockNodePort"}) // twice: one constraint
	b := policyTenant("team-b", v1alpha1.Policy{Template: "K8sBlockNodePort"},
		v1alpha1.Policy{Template: "K8sAllowedRepos", Parameters: params(`{ "repos" : ["s/"] }`)}) // same parameters, other spelling
	got, err := render.Constraints(a, templates)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("team-a: %d constraints, want 3 (the repeated policy once)", len(got))
	}
	for _, c := range got {
		if c.GetAPIVersion() != render.ConstraintAPIVersion || !strings.HasPrefix(c.GetName(), "tenantry-"+strings.ToLower(c.GetKind())+"-") {
			t.Errorf("constraint %s %s", c.GetAPIVersion(), c.GetName())
		}
		sel, _, _ := unstructured.NestedStringMap(c.Object, "spec", "match", "namespaceSelector", "matchLabels")
		if want := render.ConstraintLabels([]*unstructured.Unstructured{c}); len(sel) != 1 || !reflect.DeepEqual(sel, want) {
			t.Errorf("%s: selector %v, want %v", c.GetName(), sel, want)
		}
		if ns, found, _ := unstructured.NestedFieldNoCopy(c.Object, "spec", "match", "namespaces"); found {
			t.Errorf("%s: a shared constraint names namespaces %v", c.GetName(), ns)
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
	shared := render.SharedConstraints([]*v1alpha1.Tenant{a, b}, templates)
	if len(shared) != 3 {
		t.Fatalf("two tenants share %d constraints, want 3: %v", len(shared), names(shared))
	}
	for _, c := range shared {
		if c.GetLabels()[render.LabelShared] != "true" || c.GetLabels()[render.LabelManagedBy] != render.ManagedByValue {
			t.Errorf("%s labels %v", c.GetName(), c.GetLabels())
		}
	}
	objs, err := render.Desired(b, render.DesiredOptions{Templates: templates})
	if err != nil {
		t.Fatal(err)
	}
	bs, _ := render.Constraints(b, templates)
	for _, o := range objs {
		if o.GetAPIVersion() == render.ConstraintAPIVersion {
			t.Errorf("a tenant's own objects hold constraint %s", o.GetName())
		}
		if o.GetKind() != "Namespace" {
			continue
		}
		var selected []string
		for k := range o.GetLabels() {
			if strings.HasPrefix(k, render.ConstraintLabelPrefix) {
				selected = append(selected, k)
			}
		}
		want := render.ConstraintLabels(bs)
		if len(selected) != len(want) || len(want) != 2 {
			t.Errorf("team-b's Namespace selects %v, want %v", selected, want)
		}
	}
	if _, err := render.Constraints(policyTenant("x", v1alpha1.Policy{Template: "K8sMissing"}), templates); err == nil ||
		!strings.Contains(err.Error(), "spec.policies[0].template") {
		t.Fatalf("missing template: %v", err)
	}
}

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}
