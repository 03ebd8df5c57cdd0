package render

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler/loader"
)

// LabelAgent names the agent instance that manages a host Tenant or a ConstraintTemplate.
const LabelAgent = "tenantry.dev/agent"

// TemplatesByKind maps constraint kinds to ConstraintTemplates: the library, overridden by
// every template of the repo's policies/ files (which may hold several documents).
func TemplatesByKind(library []*unstructured.Unstructured, docs []loader.Document) (map[string]*unstructured.Unstructured, error) {
	out := make(map[string]*unstructured.Unstructured, len(library))
	for _, t := range library {
		out[TemplateKind(t)] = t
	}
	for _, d := range docs {
		objs, err := policy.DecodeObjects(d.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Path, err)
		}
		for _, o := range objs {
			out[TemplateKind(o)] = o
		}
	}
	return out, nil
}

// UsedTemplates are copies of the templates that any tenant's policies name, sorted by
// name and labelled as agent instance applies them.
func UsedTemplates(tenants []*v1alpha1.Tenant, byKind map[string]*unstructured.Unstructured, instance string) []*unstructured.Unstructured {
	kinds := map[string]bool{}
	for _, t := range tenants {
		for _, p := range t.Spec.Policies {
			kinds[p.Template] = true
		}
	}
	var out []*unstructured.Unstructured
	for k := range kinds {
		if t, ok := byKind[k]; ok {
			u := t.DeepCopy()
			u.SetLabels(map[string]string{LabelManagedBy: ManagedByValue, LabelAgent: instance})
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}
