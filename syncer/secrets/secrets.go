// Package secrets syncs the secrets that synced pods reference to the host.
package secrets

import (
	"context"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantry/tenantry/syncer/allowlist"
	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
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

// Fields is the allow-list of a host secret (see package allowlist).
var Fields = allowlist.Join(allowlist.Metadata, allowlist.List{"data.*", "type", "immutable"})

// types are the secret types synced. A kubernetes.io/service-account-token Secret would
// make the host's token controller fill it with a host token; other types are refused too.
var secretTypes = []corev1.SecretType{corev1.SecretTypeOpaque, corev1.SecretTypeTLS, corev1.SecretTypeDockerConfigJson,
	corev1.SecretTypeDockercfg, corev1.SecretTypeBasicAuth, corev1.SecretTypeSSHAuth}

// ToHost is the host form of a secret: data, type and immutable, or the refusal of it.
func ToHost(v *corev1.Secret, t translate.Translator) (*corev1.Secret, error) {
	var refused translate.Refusals
	meta, err := t.ObjectMeta(v, Kind)
	if err := refused.AddErr(err); err != nil {
		return nil, err
	}
	if v.Type != "" && !slices.Contains(secretTypes, v.Type) && !t.DisableChecks {
		refused.Add("type", "type "+string(v.Type)+" is not synced: only Opaque, kubernetes.io/tls, kubernetes.io/dockerconfigjson, "+
			"kubernetes.io/dockercfg, kubernetes.io/basic-auth and kubernetes.io/ssh-auth are")
	}
	if err := refused.Err(); err != nil {
		return nil, err
	}
	return &corev1.Secret{ObjectMeta: meta, Data: maps.Clone(v.Data), Type: v.Type, Immutable: cp(v.Immutable)}, nil
}

func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	x := *p
	return &x
}

// SyncToHost creates or updates the host secret.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.Secret)
	want, err := ToHost(v, sc.Translator)
	if err != nil {
		return err
	}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	updated := hObj.(*corev1.Secret).DeepCopy()
	changed := translate.MergeMeta(&updated.ObjectMeta, want.ObjectMeta)
	if !equality.Semantic.DeepEqual(want.Data, updated.Data) {
		updated.Data, changed = want.Data, true
	}
	if !changed {
		return nil
	}
	return sc.UpdateHost(ctx, v, updated)
}
