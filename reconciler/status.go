package reconciler

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// LabelAgent names the agent instance that manages a host Tenant.
const LabelAgent = "tenantry.dev/agent"

// TenantGVK is the host Tenant kind.
var TenantGVK = schema.GroupVersionKind{Group: v1alpha1.Group, Version: v1alpha1.Version, Kind: v1alpha1.Kind}

// mirrorObject renders the host Tenant object for a tenant: its spec is the file's spec.
func (a *Agent) mirrorObject(t *v1alpha1.Tenant) (*unstructured.Unstructured, error) {
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
	u.SetLabels(map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: t.Name, LabelAgent: a.opts.Instance})
	return u, nil
}

// getTenant reads a host Tenant; ok is false when it does not exist.
func (a *Agent) getTenant(ctx context.Context, name string) (*unstructured.Unstructured, *v1alpha1.TenantStatus, bool, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(TenantGVK)
	if err := a.client.Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &v1alpha1.TenantStatus{}, false, nil
		}
		return nil, nil, false, fmt.Errorf("reading tenant %s: %w", name, err)
	}
	st, err := statusOf(u)
	return u, st, err == nil, err
}

func statusOf(u *unstructured.Unstructured) (*v1alpha1.TenantStatus, error) {
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

// patchStatus writes status when it differs from old; an unchanged status is not written.
func (a *Agent) patchStatus(ctx context.Context, name string, old, st *v1alpha1.TenantStatus) error {
	if reflect.DeepEqual(normalize(old), normalize(st)) {
		return nil
	}
	data, err := json.Marshal(map[string]any{"status": st})
	if err != nil {
		return fmt.Errorf("encoding status of tenant %s: %w", name, err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(TenantGVK)
	u.SetName(name)
	if err := a.client.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, data)); err != nil {
		return fmt.Errorf("writing status of tenant %s: %w", name, err)
	}
	return nil
}

// normalize round-trips a status through JSON so nil and empty compare equal.
func normalize(st *v1alpha1.TenantStatus) map[string]any {
	data, _ := json.Marshal(st)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}

// setReady records the outcome of a reconcile as kstatus conditions.
func setReady(st *v1alpha1.TenantStatus, ready bool, reason, msg string) {
	readyStatus, stalled := metav1.ConditionTrue, metav1.ConditionFalse
	if !ready {
		readyStatus, stalled = metav1.ConditionFalse, metav1.ConditionTrue
	}
	apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: readyStatus, Reason: reason, Message: msg})
	apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionStalled, Status: stalled, Reason: reason, Message: msg})
	apimeta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionReconciling)
}

func copyStatus(st *v1alpha1.TenantStatus) *v1alpha1.TenantStatus {
	out := &v1alpha1.TenantStatus{}
	data, _ := json.Marshal(st)
	_ = json.Unmarshal(data, out)
	return out
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
