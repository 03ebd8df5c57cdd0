// Package pvcs syncs PersistentVolumeClaims to the host and their binding status back.
package pvcs

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/synccontext"
)

// Kind is the PVC kind recorded on host objects.
const Kind = "PersistentVolumeClaim"

// Syncer syncs PersistentVolumeClaims.
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &corev1.PersistentVolumeClaim{} }

// ToHost is the host form of a claim: not bound to a volume, selector narrowed, data
// sources renamed.
func ToHost(v *corev1.PersistentVolumeClaim, sc *synccontext.Context) *corev1.PersistentVolumeClaim {
	h := &corev1.PersistentVolumeClaim{ObjectMeta: sc.ObjectMeta(v, Kind), Spec: *v.Spec.DeepCopy()}
	h.Spec.VolumeName = ""
	delete(h.Annotations, "pv.kubernetes.io/bind-completed")
	delete(h.Annotations, "pv.kubernetes.io/bound-by-controller")
	if ds := h.Spec.DataSource; ds != nil && ds.APIGroup == nil && ds.Kind == Kind {
		ds.Name = sc.Name(ds.Name, v.Namespace)
	}
	if ds := h.Spec.DataSourceRef; ds != nil && ds.APIGroup == nil && ds.Kind == Kind {
		ds.Name = sc.Name(ds.Name, v.Namespace)
		ds.Namespace = nil
	}
	return h
}

// SyncToHost creates the host claim, or updates its metadata and requested size (the
// rest of a claim's spec is immutable).
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.PersistentVolumeClaim)
	want := ToHost(v, sc)
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	h := hObj.(*corev1.PersistentVolumeClaim)
	if equality.Semantic.DeepEqual(want.Spec.Resources, h.Spec.Resources) && maps.Equal(want.Labels, h.Labels) {
		return nil
	}
	updated := h.DeepCopy()
	updated.Labels, updated.Spec.Resources = want.Labels, want.Spec.Resources
	maps.Copy(updated.Annotations, want.Annotations)
	return sc.UpdateHost(ctx, v, updated)
}

// SyncFromHost copies the host claim's binding status to the virtual claim.
func (Syncer) SyncFromHost(ctx context.Context, sc *synccontext.Context, hObj, vObj client.Object) error {
	h, v := hObj.(*corev1.PersistentVolumeClaim), vObj.(*corev1.PersistentVolumeClaim)
	if equality.Semantic.DeepEqual(h.Status, v.Status) {
		return nil
	}
	updated := v.DeepCopy()
	updated.Status = h.Status
	if err := sc.Virtual.Status().Update(ctx, updated); err != nil {
		return fmt.Errorf("updating virtual claim status: %w", err)
	}
	return nil
}
