package pods

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Index registers the virtual pod indexes other kinds use: referenced configmaps,
// secrets and PVCs, and the node name.
func (Syncer) Index(ctx context.Context, idx client.FieldIndexer) error {
	refs := map[string]RefKind{
		synccontext.IndexPodConfigMaps: ConfigMapRef, synccontext.IndexPodSecrets: SecretRef, synccontext.IndexPodPVCs: PVCRef,
	}
	for field, kind := range refs {
		err := idx.IndexField(ctx, &corev1.Pod{}, field, func(obj client.Object) []string {
			return Refs(obj.(*corev1.Pod), kind)
		})
		if err != nil {
			return fmt.Errorf("indexing %s: %w", field, err)
		}
	}
	err := idx.IndexField(ctx, &corev1.Pod{}, synccontext.IndexPodNodeName, func(obj client.Object) []string {
		if n := obj.(*corev1.Pod).Spec.NodeName; n != "" {
			return []string{n}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("indexing %s: %w", synccontext.IndexPodNodeName, err)
	}
	return nil
}

// Watch re-syncs a pod when its host token Secret changes or disappears.
func (Syncer) Watch(b *builder.Builder, sc *synccontext.Context) *builder.Builder {
	return b.WatchesRawSource(source.Kind(sc.HostCache, &corev1.Secret{},
		handler.TypedEnqueueRequestsFromMapFunc(func(_ context.Context, s *corev1.Secret) []reconcile.Request {
			key, ok := sc.Origin(s)
			if !ok || s.Annotations[translate.AnnotationKind] != tokenKind {
				return nil
			}
			return []reconcile.Request{{NamespacedName: key}}
		})))
}

// WatchRefs makes a controller of a referenced kind re-check every object of that kind a
// virtual pod references, whenever the pod is created, changed or deleted.
func WatchRefs(b *builder.Builder, kind RefKind) *builder.Builder {
	return b.Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return nil
		}
		var out []reconcile.Request
		for _, name := range Refs(pod, kind) {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: pod.Namespace, Name: name}})
		}
		return out
	}))
}
