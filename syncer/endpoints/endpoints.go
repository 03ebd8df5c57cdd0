// Package endpoints syncs the Endpoints of selector-less services to the host.
package endpoints

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantry/tenantry/syncer/synccontext"
)

// Kind is the endpoints kind recorded on host objects.
const Kind = "Endpoints"

// Syncer syncs Endpoints of services without a selector (the host computes the others).
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
//
//nolint:staticcheck // users still write Endpoints for selector-less services.
func (Syncer) New() client.Object { return &corev1.Endpoints{} }

// Wanted syncs the Endpoints of a synced service that has no selector.
func (Syncer) Wanted(ctx context.Context, sc *synccontext.Context, vObj client.Object) (bool, error) {
	if vObj.GetNamespace() == "default" && vObj.GetName() == "kubernetes" {
		return false, nil
	}
	var svc corev1.Service
	if err := sc.Virtual.Get(ctx, client.ObjectKeyFromObject(vObj), &svc); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return false, nil
		}
		return false, fmt.Errorf("reading the service of endpoints %s: %w", vObj.GetName(), err)
	}
	return len(svc.Spec.Selector) == 0 && svc.Spec.Type != corev1.ServiceTypeExternalName, nil
}

// Watch re-checks Endpoints when their service changes.
func (Syncer) Watch(b *builder.Builder, _ *synccontext.Context) *builder.Builder {
	return b.Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(obj)}}
	}))
}

// SyncToHost copies the subsets, pointing pod target references at host pods.
//
//nolint:staticcheck // users still write Endpoints for selector-less services.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.Endpoints)
	want := &corev1.Endpoints{ObjectMeta: sc.ObjectMeta(v, Kind), Subsets: subsets(v, sc)}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	h := hObj.(*corev1.Endpoints)
	if equality.Semantic.DeepEqual(want.Subsets, h.Subsets) && maps.Equal(want.Labels, h.Labels) && maps.Equal(want.Annotations, h.Annotations) {
		return nil
	}
	updated := h.DeepCopy()
	updated.Labels, updated.Annotations, updated.Subsets = want.Labels, want.Annotations, want.Subsets
	return sc.UpdateHost(ctx, v, updated)
}

//nolint:staticcheck // users still write Endpoints for selector-less services.
func subsets(v *corev1.Endpoints, sc *synccontext.Context) []corev1.EndpointSubset {
	out := make([]corev1.EndpointSubset, 0, len(v.Subsets))
	for _, s := range v.Subsets {
		s = *s.DeepCopy()
		for _, list := range [][]corev1.EndpointAddress{s.Addresses, s.NotReadyAddresses} {
			for i := range list {
				if ref := list[i].TargetRef; ref != nil && ref.Kind == "Pod" {
					list[i].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: sc.HostNamespace,
						Name: sc.Name(ref.Name, ref.Namespace)}
				}
				list[i].NodeName = nil
			}
		}
		out = append(out, s)
	}
	return out
}
