// Package secrets syncs the secrets that synced pods reference to the host.
package secrets

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/syncer/synccontext"
)

// Kind is the secret kind recorded on host objects.
const Kind = "Secret"

// Syncer syncs secrets referenced by pods in their namespace. Host names carry the
// virtual namespace and the vcluster name, so a tenant can only reach its own secrets.
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &corev1.Secret{} }

// Wanted syncs only secrets a pod of the same virtual namespace references, or, when
// ingresses are synced, an ingress's TLS section.
func (Syncer) Wanted(ctx context.Context, sc *synccontext.Context, vObj client.Object) (bool, error) {
	used, err := sc.Referenced(ctx, synccontext.IndexPodSecrets, vObj)
	if err != nil || used || !sc.Sync.Ingresses {
		return used, err
	}
	var ingresses networkingv1.IngressList
	err = sc.Virtual.List(ctx, &ingresses, client.InNamespace(vObj.GetNamespace()),
		client.MatchingFields{synccontext.IndexIngressSecrets: vObj.GetName()})
	if err != nil {
		return false, fmt.Errorf("listing ingresses that reference %s: %w", vObj.GetName(), err)
	}
	return len(ingresses.Items) > 0, nil
}

// Watch re-checks the secrets a pod (or an ingress) references whenever it changes or goes.
func (Syncer) Watch(b *builder.Builder, sc *synccontext.Context) *builder.Builder {
	b = pods.WatchRefs(b, pods.SecretRef)
	if !sc.Sync.Ingresses {
		return b
	}
	return b.Watches(&networkingv1.Ingress{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		var out []reconcile.Request
		for _, tls := range obj.(*networkingv1.Ingress).Spec.TLS {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: tls.SecretName}})
		}
		return out
	}))
}

// SyncToHost creates or updates the host secret. Service account token secrets become
// Opaque: the host would check their service account.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.Secret)
	want := &corev1.Secret{ObjectMeta: sc.ObjectMeta(v, Kind), Data: v.Data, Type: v.Type, Immutable: v.Immutable}
	if want.Type == corev1.SecretTypeServiceAccountToken {
		want.Type = corev1.SecretTypeOpaque
	}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	h := hObj.(*corev1.Secret)
	if equality.Semantic.DeepEqual(want.Data, h.Data) && maps.Equal(want.Labels, h.Labels) && maps.Equal(want.Annotations, h.Annotations) {
		return nil
	}
	updated := h.DeepCopy()
	updated.Labels, updated.Annotations, updated.Data = want.Labels, want.Annotations, want.Data
	return sc.UpdateHost(ctx, v, updated)
}
