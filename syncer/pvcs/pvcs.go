// Package pvcs syncs PersistentVolumeClaims to the host and their binding status back.
package pvcs

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Kind is the PVC kind recorded on host objects.
const Kind = "PersistentVolumeClaim"

// Syncer syncs PersistentVolumeClaims.
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &corev1.PersistentVolumeClaim{} }

// ToHost is the host form of a claim, or the refusal of it.
func ToHost(v *corev1.PersistentVolumeClaim, t translate.Translator) (*corev1.PersistentVolumeClaim, error) {
	var refused translate.Refusals
	meta, err := t.ObjectMeta(v, Kind)
	if err := refused.AddErr(err); err != nil {
		return nil, err
	}
	rename := func(name string) string { return t.Name(name, v.Namespace) }
	h := &corev1.PersistentVolumeClaim{ObjectMeta: meta}
	if t.DisableChecks {
		h.Spec = *v.Spec.DeepCopy() // volumeName included: the host guard must refuse it
		if ds := h.Spec.DataSource; ds != nil {
			ds.Name = rename(ds.Name)
		}
		if ds := h.Spec.DataSourceRef; ds != nil {
			ds.Name = rename(ds.Name)
		}
		return h, nil
	}
	h.Spec = Spec("spec", &v.Spec, rename, &refused)
	return h, refused.Err()
}

// SyncToHost creates the host claim, or updates its metadata and requested size (the
// rest of a claim's spec is immutable).
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.PersistentVolumeClaim)
	want, err := ToHost(v, sc.Translator)
	if err != nil {
		return err
	}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	updated := hObj.(*corev1.PersistentVolumeClaim).DeepCopy()
	changed := translate.MergeMeta(&updated.ObjectMeta, want.ObjectMeta)
	if !equality.Semantic.DeepEqual(want.Spec.Resources, updated.Spec.Resources) {
		updated.Spec.Resources, changed = want.Spec.Resources, true
	}
	if !changed {
		return nil
	}
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
