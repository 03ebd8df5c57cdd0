package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Inventory lists objects in Flux's inventory format, sorted.
func Inventory(objs []*unstructured.Unstructured) []v1alpha1.ObjectRef {
	out := make([]v1alpha1.ObjectRef, 0, len(objs))
	for _, o := range objs {
		out = append(out, objectRef(o))
	}
	sortRefs(out)
	return out
}

func objectRef(o *unstructured.Unstructured) v1alpha1.ObjectRef {
	return v1alpha1.ObjectRef{ID: object.UnstructuredToObjMetadata(o).String(), Version: o.GroupVersionKind().Version}
}

func sortRefs(refs []v1alpha1.ObjectRef) {
	sort.Slice(refs, func(i, j int) bool { return refs[i].ID < refs[j].ID })
}

// Inventory is the inventory of the plan's objects with each one's digest and revision
// stamp (stamp), as the status records it; Inventory(p.Objects) without them when the
// objects were not rendered by this plan.
func (p *Tenant) Inventory() []v1alpha1.ObjectRef {
	if p.inventory != nil {
		return p.inventory
	}
	return Inventory(p.Objects)
}

// Stale returns the objects of old that are not in current, as deletable stubs.
func Stale(old, current []v1alpha1.ObjectRef) ([]*unstructured.Unstructured, error) {
	keep := map[string]bool{}
	for _, r := range current {
		keep[r.ID] = true
	}
	var out []*unstructured.Unstructured
	for _, r := range old {
		if keep[r.ID] {
			continue
		}
		u, err := refToObject(r)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// Objects turns a whole inventory into object stubs.
func Objects(inv []v1alpha1.ObjectRef) ([]*unstructured.Unstructured, error) {
	return Stale(inv, nil)
}

// MergeInventory is the union of two inventories, sorted: after a failed health check the
// applied objects join the inventory (so a later removal prunes them), and the stale entries
// not yet pruned stay.
func MergeInventory(current, old []v1alpha1.ObjectRef) []v1alpha1.ObjectRef {
	out := slices.Clone(current)
	for _, r := range old {
		if !slices.ContainsFunc(out, func(c v1alpha1.ObjectRef) bool { return c.ID == r.ID }) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y v1alpha1.ObjectRef) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// refToObject turns an inventory entry back into an object stub.
func refToObject(r v1alpha1.ObjectRef) (*unstructured.Unstructured, error) {
	meta, err := object.ParseObjMetadata(r.ID)
	if err != nil {
		return nil, fmt.Errorf("parsing inventory entry %q: %w", r.ID, err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: meta.GroupKind.Group, Version: r.Version, Kind: meta.GroupKind.Kind})
	u.SetNamespace(meta.Namespace)
	u.SetName(meta.Name)
	return u, nil
}

// ObjectName is "Kind/namespace/name", or "Kind/name" when cluster-scoped.
func ObjectName(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

// IsNamespace reports whether o is a core Namespace.
func IsNamespace(o *unstructured.Unstructured) bool {
	return o.GetKind() == "Namespace" && o.GroupVersionKind().Group == ""
}
