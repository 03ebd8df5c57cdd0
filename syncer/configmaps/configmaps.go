// Package configmaps syncs the configmaps that synced pods reference to the host.
package configmaps

import (
	"context"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/allowlist"
	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Kind is the configmap kind recorded on host objects.
const Kind = "ConfigMap"

// Syncer syncs configmaps referenced by pods in their namespace.
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &corev1.ConfigMap{} }

// Wanted syncs only configmaps a pod of the same virtual namespace references.
func (Syncer) Wanted(ctx context.Context, sc *synccontext.Context, vObj client.Object) (bool, error) {
	return sc.Referenced(ctx, synccontext.IndexPodConfigMaps, vObj)
}

// Watch re-checks the configmaps a pod references whenever the pod changes or goes.
func (Syncer) Watch(b *builder.Builder, _ *synccontext.Context) *builder.Builder {
	return pods.WatchRefs(b, pods.ConfigMapRef)
}

// Fields is the allow-list of a host configmap (see package allowlist).
var Fields = allowlist.Join(allowlist.Metadata, allowlist.List{"data.*", "binaryData.*", "immutable"})

// ToHost is the host form of a configmap: data, binaryData and immutable.
func ToHost(v *corev1.ConfigMap, t translate.Translator) (*corev1.ConfigMap, error) {
	meta, err := t.ObjectMeta(v, Kind)
	if err != nil {
		return nil, err
	}
	h := &corev1.ConfigMap{ObjectMeta: meta, Data: maps.Clone(v.Data), BinaryData: maps.Clone(v.BinaryData)}
	if v.Immutable != nil {
		h.Immutable = new(*v.Immutable)
	}
	return h, nil
}

// SyncToHost creates or updates the host configmap.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.ConfigMap)
	want, err := ToHost(v, sc.Translator)
	if err != nil {
		return err
	}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	updated := hObj.(*corev1.ConfigMap).DeepCopy()
	changed := translate.MergeMeta(&updated.ObjectMeta, want.ObjectMeta)
	if !equality.Semantic.DeepEqual(want.Data, updated.Data) || !equality.Semantic.DeepEqual(want.BinaryData, updated.BinaryData) {
		updated.Data, updated.BinaryData, changed = want.Data, want.BinaryData, true
	}
	if !changed {
		return nil
	}
	return sc.UpdateHost(ctx, v, updated)
}
