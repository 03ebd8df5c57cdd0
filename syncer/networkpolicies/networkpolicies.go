// Package networkpolicies syncs NetworkPolicies to the host with selectors narrowed to the tenant.
package networkpolicies

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Kind is the network policy kind recorded on host objects.
const Kind = "NetworkPolicy"

// noNamespace is a namespace label value no virtual namespace has: a peer whose namespace
// selector matches nothing must keep matching nothing (an empty peer list would allow all).
const noNamespace = "tenantry.none"

// Syncer syncs NetworkPolicies (when the tenant file sets spec.sync.networkPolicies).
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &networkingv1.NetworkPolicy{} }

// Watch re-syncs every policy when virtual namespaces change: namespace selectors
// become lists of namespace names.
func (Syncer) Watch(b *builder.Builder, sc *synccontext.Context) *builder.Builder {
	return b.Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		var list networkingv1.NetworkPolicyList
		if err := sc.Virtual.List(ctx, &list); err != nil {
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for i := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
		return out
	}))
}

// ToHost is the host form of a policy. namespaces resolves a virtual namespace selector
// to the names of the virtual namespaces it matches.
func ToHost(v *networkingv1.NetworkPolicy, t translate.Translator, namespaces func(metav1.LabelSelector) ([]string, error)) (*networkingv1.NetworkPolicy, error) {
	h := &networkingv1.NetworkPolicy{ObjectMeta: t.ObjectMeta(v, Kind), Spec: *v.Spec.DeepCopy()}
	h.Spec.PodSelector = *t.LabelSelector(&h.Spec.PodSelector, v.Namespace)
	for i := range h.Spec.Ingress {
		if err := peers(h.Spec.Ingress[i].From, v.Namespace, t, namespaces); err != nil {
			return nil, err
		}
	}
	for i := range h.Spec.Egress {
		if err := peers(h.Spec.Egress[i].To, v.Namespace, t, namespaces); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// peers rewrites pod and namespace selectors into host pod selectors in place.
func peers(list []networkingv1.NetworkPolicyPeer, vns string, t translate.Translator, namespaces func(metav1.LabelSelector) ([]string, error)) error {
	for i := range list {
		p := &list[i]
		if p.PodSelector == nil && p.NamespaceSelector == nil {
			continue // an ipBlock
		}
		pods := p.PodSelector
		if pods == nil {
			pods = &metav1.LabelSelector{}
		}
		pods = pods.DeepCopy()
		if pods.MatchLabels == nil {
			pods.MatchLabels = map[string]string{}
		}
		pods.MatchLabels[translate.LabelManagedBy] = t.VCluster
		if p.NamespaceSelector == nil {
			pods.MatchLabels[translate.LabelNamespace] = vns
		} else {
			names, err := namespaces(*p.NamespaceSelector)
			if err != nil {
				return err
			}
			if len(names) == 0 {
				names = []string{noNamespace}
			}
			pods.MatchExpressions = append(pods.MatchExpressions, metav1.LabelSelectorRequirement{
				Key: translate.LabelNamespace, Operator: metav1.LabelSelectorOpIn, Values: names})
		}
		p.PodSelector, p.NamespaceSelector = pods, nil
	}
	return nil
}

// SyncToHost creates or updates the host policy.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*networkingv1.NetworkPolicy)
	want, err := ToHost(v, sc.Translator, func(sel metav1.LabelSelector) ([]string, error) { return namespaces(ctx, sc, sel) })
	if err != nil {
		return err
	}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	h := hObj.(*networkingv1.NetworkPolicy)
	if equality.Semantic.DeepEqual(want.Spec, h.Spec) && maps.Equal(want.Labels, h.Labels) && maps.Equal(want.Annotations, h.Annotations) {
		return nil
	}
	updated := h.DeepCopy()
	updated.Labels, updated.Annotations, updated.Spec = want.Labels, want.Annotations, want.Spec
	return sc.UpdateHost(ctx, v, updated)
}

func namespaces(ctx context.Context, sc *synccontext.Context, sel metav1.LabelSelector) ([]string, error) {
	s, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		return nil, fmt.Errorf("namespace selector: %w", err)
	}
	var list corev1.NamespaceList
	if err := sc.Virtual.List(ctx, &list, client.MatchingLabelsSelector{Selector: s}); err != nil {
		return nil, fmt.Errorf("listing virtual namespaces: %w", err)
	}
	out := make([]string, 0, len(list.Items))
	for _, ns := range list.Items {
		out = append(out, ns.Name)
	}
	return out, nil
}
