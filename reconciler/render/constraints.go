package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
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

// ConstraintLabelPrefix starts the Namespace label that selects a shared constraint for a
// tenant: <prefix><constraint name>: "true". Only the agent writes tenant Namespaces, and
// the host guards refuse tenantry's labels to everyone else.
const ConstraintLabelPrefix = "constraint.tenantry.dev/"

// LabelShared marks a constraint shared by tenants: it belongs to no tenant's inventory
// and is pruned only when no Namespace selects it (PruneConstraints).
const LabelShared = "tenantry.dev/shared"

// Constraints renders the Gatekeeper constraints a tenant's policies select. Constraints
// are shared: one per (template, enforcement action, parameters) across all tenants, named
// tenantry-<kind>-<digest of the three>, matching the Namespaces labelled for it
// (ConstraintLabels). So 1,000 tenants with the same two policies make two constraints,
// not 2,000, and Gatekeeper evaluates each request against two. templates maps a template
// kind to its ConstraintTemplate, for the match kinds.
func Constraints(t *v1alpha1.Tenant, templates map[string]*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	return constraints(t, templates, map[policyKey]renderedPolicy{})
}

// policyKey is what a policy's constraint depends on besides its template.
type policyKey struct{ template, action, params string }

// renderedPolicy is a policy's constraint, or why it does not render.
type renderedPolicy struct {
	c               *unstructured.Unstructured
	err             error
	missingTemplate bool
}

// constraints renders a tenant's constraints, each once by name, taking each policy from
// rendered when a tenant before rendered the same one, and adding it there otherwise.
func constraints(t *v1alpha1.Tenant, templates map[string]*unstructured.Unstructured, rendered map[policyKey]renderedPolicy) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	seen := map[string]bool{}
	for i, p := range t.Spec.Policies {
		r := renderPolicy(p, templates, rendered)
		switch {
		case r.missingTemplate:
			return nil, fmt.Errorf("spec.policies[%d].template: no ConstraintTemplate of kind %q", i, p.Template)
		case r.err != nil:
			return nil, fmt.Errorf("spec.policies[%d]: %w", i, r.err)
		}
		if !seen[r.c.GetName()] {
			seen[r.c.GetName()] = true
			out = append(out, r.c)
		}
	}
	return out, nil
}

// renderPolicy is the policy's constraint from rendered, rendered and added when missing.
func renderPolicy(p v1alpha1.Policy, templates map[string]*unstructured.Unstructured, rendered map[policyKey]renderedPolicy) renderedPolicy {
	key := policyKey{template: p.Template, action: p.EnforcementAction}
	if p.Parameters != nil {
		key.params = string(p.Parameters.Raw)
	}
	if r, done := rendered[key]; done {
		return r
	}
	var r renderedPolicy
	if tmpl, found := templates[p.Template]; found {
		r.c, r.err = constraint(p, tmpl)
	} else {
		r.missingTemplate = true
	}
	rendered[key] = r
	return r
}

// ConstraintLabels are the Namespace labels that select constraints for a tenant.
func ConstraintLabels(constraints []*unstructured.Unstructured) map[string]string {
	out := make(map[string]string, len(constraints))
	for _, c := range constraints {
		out[ConstraintLabel(c.GetName())] = "true"
	}
	return out
}

// SharedConstraints are the constraints of every tenant that renders them, each once,
// sorted by name, labelled as the agent applies them. A tenant whose policies do not render
// is left out: its own pass fails on them.
func SharedConstraints(tenants []*v1alpha1.Tenant, templates map[string]*unstructured.Unstructured) []*unstructured.Unstructured {
	byName := map[string]*unstructured.Unstructured{}
	// Each distinct policy is rendered once: thousands of tenants share a handful.
	rendered := map[policyKey]renderedPolicy{}
	for _, t := range tenants {
		cs, err := constraints(t, templates, rendered)
		if err != nil {
			continue
		}
		for _, c := range cs {
			byName[c.GetName()] = c
		}
	}
	out := make([]*unstructured.Unstructured, 0, len(byName))
	for _, c := range byName {
		c = c.DeepCopy()
		c.SetLabels(map[string]string{LabelManagedBy: ManagedByValue, LabelShared: "true"})
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

func constraint(p v1alpha1.Policy, tmpl *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	var params any
	if p.Parameters != nil && len(p.Parameters.Raw) > 0 {
		if err := json.Unmarshal(p.Parameters.Raw, &params); err != nil {
			return nil, fmt.Errorf("parameters: %w", err)
		}
	}
	name, err := constraintName(p.Template, p.EnforcementAction, params)
	if err != nil {
		return nil, err
	}
	match := map[string]any{"scope": "Namespaced", "namespaceSelector": map[string]any{
		"matchLabels": map[string]any{ConstraintLabel(name): "true"}}}
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
	if params != nil {
		spec["parameters"] = params
	}
	c := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	c.SetAPIVersion(ConstraintAPIVersion)
	c.SetKind(p.Template)
	c.SetName(name)
	return c, nil
}

// constraintNamePrefix starts every shared constraint's name.
const constraintNamePrefix = "tenantry-"

// constraintName is tenantry-<kind>-<digest>: the digest of the kind, the enforcement
// action and the parameters (encoding/json sorts map keys, so equal parameters hash equal).
// The kind is cut to 50 characters, so the label key's name part (the constraint name
// without "tenantry-") stays within 63.
func constraintName(kind, action string, params any) (string, error) {
	data, err := json.Marshal([]any{kind, action, params})
	if err != nil {
		return "", fmt.Errorf("parameters: %w", err)
	}
	sum := sha256.Sum256(data)
	k := strings.ToLower(kind)
	return constraintNamePrefix + k[:min(len(k), 50)] + "-" + hex.EncodeToString(sum[:5]), nil
}

// ConstraintLabel is the Namespace label key that selects the constraint named name.
func ConstraintLabel(name string) string {
	return ConstraintLabelPrefix + strings.TrimPrefix(name, constraintNamePrefix)
}

// TemplateKind returns the constraint kind a ConstraintTemplate defines.
func TemplateKind(tmpl *unstructured.Unstructured) string {
	kind, _, _ := unstructured.NestedString(tmpl.Object, "spec", "crd", "spec", "names", "kind")
	return kind
}
