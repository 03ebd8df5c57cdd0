package status

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TenantGVK is the host Tenant kind.
var TenantGVK = schema.GroupVersionKind{Group: v1alpha1.Group, Version: v1alpha1.Version, Kind: v1alpha1.Kind}

// Mirror renders the host Tenant object of a tenant, managed by the agent instance: its
// spec is the file's spec.
func Mirror(t *v1alpha1.Tenant, instance string) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(t.Spec)
	if err != nil {
		return nil, fmt.Errorf("encoding tenant %s spec: %w", t.Name, err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("decoding tenant %s spec: %w", t.Name, err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(TenantGVK)
	u.SetName(t.Name)
	u.SetLabels(map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: t.Name, render.LabelAgent: instance})
	return u, nil
}

// SameMirror reports whether a live host Tenant already carries the mirror's spec and labels.
func SameMirror(live, mirror *unstructured.Unstructured) bool {
	for k, v := range mirror.GetLabels() {
		if live.GetLabels()[k] != v {
			return false
		}
	}
	a, _ := json.Marshal(live.Object["spec"])
	b, _ := json.Marshal(mirror.Object["spec"])
	return string(a) == string(b)
}

// Of decodes a host Tenant's status.
func Of(u *unstructured.Unstructured) (*v1alpha1.TenantStatus, error) {
	st := &v1alpha1.TenantStatus{}
	raw, ok := u.Object["status"]
	if !ok {
		return st, nil
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("encoding status of tenant %s: %w", u.GetName(), err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("decoding status of tenant %s: %w", u.GetName(), err)
	}
	return st, nil
}

// Get reads a host Tenant and its status; ok is false when it does not exist (the status
// is then empty).
func Get(ctx context.Context, c client.Client, name string) (*unstructured.Unstructured, *v1alpha1.TenantStatus, bool, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(TenantGVK)
	if err := c.Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &v1alpha1.TenantStatus{}, false, nil
		}
		return nil, nil, false, fmt.Errorf("reading tenant %s: %w", name, err)
	}
	st, err := Of(u)
	return u, st, err == nil, err
}

// ListPageSize is how many Tenants one list request reads.
const ListPageSize = 250

// ListVersions lists the metadata only of the host Tenants managed by an agent instance:
// name to resourceVersion. A pass needs the whole Tenant only for those whose file or
// Tenant changed since the agent last carried them out (see ListManaged).
func ListVersions(ctx context.Context, c client.Client, instance string) (map[string]string, error) {
	out := map[string]string{}
	managed := client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, render.LabelAgent: instance}
	next := ""
	for {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(TenantGVK.GroupVersion().WithKind("TenantList"))
		if err := c.List(ctx, list, managed, client.Limit(ListPageSize*4), client.Continue(next)); err != nil {
			return nil, fmt.Errorf("listing host tenants: %w", err)
		}
		for i := range list.Items {
			out[list.Items[i].Name] = list.Items[i].ResourceVersion
		}
		if next = list.Continue; next == "" {
			return out, nil
		}
	}
}

// ListManaged lists the host Tenants managed by an agent instance, by name: one request
// per pass instead of one per tenant.
//
// It reads them in pages and drops each one's managedFields, which nothing reads from a
// listed Tenant: at a thousand tenants the whole list at once, as decoded maps, was most
// of the agent's peak memory.
func ListManaged(ctx context.Context, c client.Client, instance string) (map[string]*unstructured.Unstructured, error) {
	out := map[string]*unstructured.Unstructured{}
	managed := client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, render.LabelAgent: instance}
	next := "" // the continue token of the next page; "" for the first
	for {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(TenantGVK.GroupVersion().WithKind("TenantList"))
		if err := c.List(ctx, list, managed, client.Limit(ListPageSize), client.Continue(next)); err != nil {
			return nil, fmt.Errorf("listing host tenants: %w", err)
		}
		for i := range list.Items {
			item := &list.Items[i]
			unstructured.RemoveNestedField(item.Object, "metadata", "managedFields")
			out[item.GetName()] = item
		}
		if next = list.GetContinue(); next == "" {
			return out, nil
		}
	}
}

// ListTenants reads every host Tenant with its status, sorted by name.
func ListTenants(ctx context.Context, c client.Client) ([]v1alpha1.Tenant, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(TenantGVK.GroupVersion().WithKind("TenantList"))
	if err := c.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing tenants: %w", err)
	}
	out := make([]v1alpha1.Tenant, 0, len(list.Items))
	for i := range list.Items {
		data, err := json.Marshal(list.Items[i].Object)
		if err != nil {
			return nil, fmt.Errorf("encoding tenant: %w", err)
		}
		var t v1alpha1.Tenant
		if err := json.Unmarshal(data, &t); err != nil {
			return nil, fmt.Errorf("decoding tenant %s: %w", list.Items[i].GetName(), err)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes a host Tenant (its status goes with it).
func Delete(ctx context.Context, c client.Client, u *unstructured.Unstructured) error {
	if err := client.IgnoreNotFound(c.Delete(ctx, u)); err != nil {
		return fmt.Errorf("removing Tenant %s: %w", u.GetName(), err)
	}
	return nil
}
