// Package ingresses syncs Ingresses to the host, pointing them at host services and TLS secrets.
package ingresses

import (
	"context"
	"fmt"
	"maps"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Kind is the ingress kind recorded on host objects.
const Kind = "Ingress"

// Syncer syncs Ingresses (when the tenant file sets spec.sync.ingresses).
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &networkingv1.Ingress{} }

// Index lets the secrets syncer find the TLS secrets ingresses reference.
func (Syncer) Index(ctx context.Context, idx client.FieldIndexer) error {
	err := idx.IndexField(ctx, &networkingv1.Ingress{}, synccontext.IndexIngressSecrets, func(obj client.Object) []string {
		var out []string
		for _, tls := range obj.(*networkingv1.Ingress).Spec.TLS {
			if tls.SecretName != "" {
				out = append(out, tls.SecretName)
			}
		}
		return out
	})
	if err != nil {
		return fmt.Errorf("indexing ingress TLS secrets: %w", err)
	}
	return nil
}

// ToHost is the host form of an ingress: backend services and TLS secrets renamed.
func ToHost(v *networkingv1.Ingress, t translate.Translator) *networkingv1.Ingress {
	h := &networkingv1.Ingress{ObjectMeta: t.ObjectMeta(v, Kind), Spec: *v.Spec.DeepCopy()}
	rename := func(b *networkingv1.IngressBackend) {
		if b != nil && b.Service != nil {
			b.Service.Name = t.Name(b.Service.Name, v.Namespace)
		}
	}
	rename(h.Spec.DefaultBackend)
	for i := range h.Spec.Rules {
		if h.Spec.Rules[i].HTTP == nil {
			continue
		}
		for j := range h.Spec.Rules[i].HTTP.Paths {
			rename(&h.Spec.Rules[i].HTTP.Paths[j].Backend)
		}
	}
	for i := range h.Spec.TLS {
		if h.Spec.TLS[i].SecretName != "" {
			h.Spec.TLS[i].SecretName = t.Name(h.Spec.TLS[i].SecretName, v.Namespace)
		}
	}
	return h
}

// SyncToHost creates or updates the host ingress.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*networkingv1.Ingress)
	want := ToHost(v, sc.Translator)
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	h := hObj.(*networkingv1.Ingress)
	if equality.Semantic.DeepEqual(want.Spec, h.Spec) && maps.Equal(want.Labels, h.Labels) && maps.Equal(want.Annotations, h.Annotations) {
		return nil
	}
	updated := h.DeepCopy()
	updated.Labels, updated.Annotations, updated.Spec = want.Labels, want.Annotations, want.Spec
	return sc.UpdateHost(ctx, v, updated)
}

// SyncFromHost copies the host ingress's load-balancer status back.
func (Syncer) SyncFromHost(ctx context.Context, sc *synccontext.Context, hObj, vObj client.Object) error {
	h, v := hObj.(*networkingv1.Ingress), vObj.(*networkingv1.Ingress)
	if equality.Semantic.DeepEqual(h.Status, v.Status) {
		return nil
	}
	updated := v.DeepCopy()
	updated.Status = h.Status
	if err := sc.Virtual.Status().Update(ctx, updated); err != nil {
		return fmt.Errorf("updating virtual ingress status: %w", err)
	}
	return nil
}
