// Package configmaps syncs the configmaps that synced pods reference to the host.
package configmaps

import (
	"context"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/syncer/synccontext"
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

// SyncToHost creates or updates the host configmap.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.ConfigMap)
	want := &corev1.ConfigMap{ObjectMeta: sc.ObjectMeta(v, Kind), Data: v.Data, BinaryData: v.BinaryData, Immutable: v.Immutable}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	h := hObj.(*corev1.ConfigMap)
	if equality.Semantic.DeepEqual(want.Data, h.Data) && equality.Semantic.DeepEqual(want.BinaryData, h.BinaryData) &&
		maps.Equal(want.Labels, h.Labels) && maps.Equal(want.Annotations, h.Annotations) {
		return nil
	}
	updated := h.DeepCopy()
	updated.Labels, updated.Annotations, updated.Data, updated.BinaryData = want.Labels, want.Annotations, want.Data, want.BinaryData
	return sc.UpdateHost(ctx, v, updated)
}
