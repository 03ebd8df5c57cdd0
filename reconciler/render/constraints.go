package render

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Gatekeeper API versions of the objects tenantry renders.
const (
	ConstraintAPIVersion = "constraints.gatekeeper.sh/v1beta1"
	TemplateAPIVersion   = "templates.gatekeeper.sh/v1"
	// AnnotationMatchKinds on a ConstraintTemplate holds the JSON list of
	// {apiGroups, kinds} its constraints match; without it they match every kind.
	AnnotationMatchKinds = "tenantry.dev/match-kinds"
)

// Constraints renders one Gatekeeper constraint per tenant policy, scoped to the tenant's
// namespace. Constraints are cluster-scoped, so their names carry the tenant. templates
// maps a template kind to its ConstraintTemplate, for the match kinds.
func Constraints(t *v1alpha1.Tenant, templates map[string]*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	seen := map[string]int{}
	for i, p := range t.Spec.Policies {
		tmpl, ok := templates[p.Template]
		if !ok {
			return nil, fmt.Errorf("spec.policies[%d].template: no ConstraintTemplate of kind %q", i, p.Template)
		}
		name := t.Name + "-" + strings.ToLower(p.Template)
		if seen[name]++; seen[name] > 1 {
			name = fmt.Sprintf("%s-%d", name, seen[name])
		}
		c, err := constraint(t, p, name, tmpl)
		if err != nil {
			return nil, fmt.Errorf("spec.policies[%d]: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func constraint(t *v1alpha1.Tenant, p v1alpha1.Policy, name string, tmpl *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	match := map[string]any{"scope": "Namespaced", "namespaces": []any{t.HostNamespace()}}
	if raw := tmpl.GetAnnotations()[AnnotationMatchKinds]; raw != "" {
		var kinds []any
		if err := json.Unmarshal([]byte(raw), &kinds); err != nil {
			return nil, fmt.Errorf("template %s: annotation %s: %w", tmpl.GetName(), AnnotationMatchKinds, err)
		}
		match["kinds"] = kinds
	}
	spec := map[string]any{"match": match}
	if p.EnforcementAction != "" {
		spec["enforcementAction"] = p.EnforcementAction
	}
	if p.Parameters != nil && len(p.Parameters.Raw) > 0 {
		var params any
		if err := json.Unmarshal(p.Parameters.Raw, &params); err != nil {
			return nil, fmt.Errorf("parameters: %w", err)
		}
		spec["parameters"] = params
	}
	c := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	c.SetAPIVersion(ConstraintAPIVersion)
	c.SetKind(p.Template)
	c.SetName(name)
	return c, nil
}

// TemplateKind returns the constraint kind a ConstraintTemplate defines.
func TemplateKind(tmpl *unstructured.Unstructured) string {
	kind, _, _ := unstructured.NestedString(tmpl.Object, "spec", "crd", "spec", "names", "kind")
	return kind
}
