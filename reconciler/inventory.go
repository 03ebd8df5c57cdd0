package reconciler

import (
	"fmt"
	"sort"

	"github.com/fluxcd/cli-utils/pkg/object"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// inventoryOf lists objects in Flux's inventory format, sorted.
func inventoryOf(objs []*unstructured.Unstructured) []v1alpha1.ObjectRef {
	out := make([]v1alpha1.ObjectRef, 0, len(objs))
	for _, o := range objs {
		id := object.UnstructuredToObjMetadata(o).String()
		out = append(out, v1alpha1.ObjectRef{ID: id, Version: o.GroupVersionKind().Version})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// stale returns the objects of old that are not in current, as deletable stubs.
func stale(old, current []v1alpha1.ObjectRef) ([]*unstructured.Unstructured, error) {
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

// objectsOf turns a whole inventory into object stubs.
func objectsOf(inv []v1alpha1.ObjectRef) ([]*unstructured.Unstructured, error) {
	return stale(inv, nil)
}
