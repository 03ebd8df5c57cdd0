// Package networkpolicies syncs NetworkPolicies to the host with selectors narrowed to the tenant.
package networkpolicies

import (
	"context"
	"fmt"
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantry/tenantry/syncer/allowlist"
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

// Fields is the allow-list of a host network policy (see package allowlist).
var Fields = allowlist.Join(allowlist.Metadata, selectorFields("spec.podSelector"),
	selectorFields("spec.ingress[].from[].podSelector"), selectorFields("spec.egress[].to[].podSelector"),
	allowlist.List{"spec.policyTypes[]", "spec.ingress[].ports[].protocol", "spec.ingress[].ports[].port", "spec.ingress[].ports[].endPort",
		"spec.egress[].ports[].protocol", "spec.egress[].ports[].port", "spec.egress[].ports[].endPort"})

func selectorFields(p string) allowlist.List {
	return allowlist.List{p + ".matchLabels.*", p + ".matchExpressions[].key", p + ".matchExpressions[].operator", p + ".matchExpressions[].values[]"}
}

// ToHost is the host form of a policy, built from Fields: it selects this vcluster's pods
// of its namespace and can only ever allow peers inside this vcluster. Pod and namespace
// selector peers become host pod selectors (namespaces resolves a virtual namespace
// selector to the names of the virtual namespaces it matches), a rule with no peers
// ("from anywhere") allows every pod of this vcluster, and ipBlock peers are refused.
func ToHost(v *networkingv1.NetworkPolicy, t translate.Translator, namespaces func(metav1.LabelSelector) ([]string, error)) (*networkingv1.NetworkPolicy, error) {
	var refused translate.Refusals
	meta, err := t.ObjectMeta(v, Kind)
	if err := refused.AddErr(err); err != nil {
		return nil, err
	}
	h := &networkingv1.NetworkPolicy{ObjectMeta: meta, Spec: networkingv1.NetworkPolicySpec{
		PodSelector: *t.LabelSelector(selector(&v.Spec.PodSelector), v.Namespace),
		PolicyTypes: append([]networkingv1.PolicyType(nil), v.Spec.PolicyTypes...)}}
	if t.DisableChecks {
		h.Spec = *v.Spec.DeepCopy()
		h.Spec.PodSelector = *t.LabelSelector(&h.Spec.PodSelector, v.Namespace)
		return h, nil
	}
	for i, r := range v.Spec.Ingress {
		from, err := peers("spec.ingress["+strconv.Itoa(i)+"].from", r.From, v.Namespace, t, namespaces, &refused)
		if err != nil {
			return nil, err
		}
		h.Spec.Ingress = append(h.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{Ports: ports(r.Ports), From: from})
	}
	for i, r := range v.Spec.Egress {
		to, err := peers("spec.egress["+strconv.Itoa(i)+"].to", r.To, v.Namespace, t, namespaces, &refused)
		if err != nil {
			return nil, err
		}
		h.Spec.Egress = append(h.Spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: ports(r.Ports), To: to})
	}
	return h, refused.Err()
}

// peers builds host pod-selector peers. No peers at all means every source (or
// destination): on the host that is every pod of this vcluster, never more.
func peers(path string, list []networkingv1.NetworkPolicyPeer, vns string, t translate.Translator,
	namespaces func(metav1.LabelSelector) ([]string, error), refused *translate.Refusals) ([]networkingv1.NetworkPolicyPeer, error) {
	if len(list) == 0 {
		return []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{translate.LabelManagedBy: t.VCluster}}}}, nil
	}
	out := make([]networkingv1.NetworkPolicyPeer, 0, len(list))
	for i, p := range list {
		if p.IPBlock != nil {
			refused.Add(path+"["+strconv.Itoa(i)+"].ipBlock", "a synced policy may only allow pods of this virtual cluster")
			continue
		}
		pods := selector(p.PodSelector)
		if pods == nil {
			pods = &metav1.LabelSelector{}
		}
		if pods.MatchLabels == nil {
			pods.MatchLabels = map[string]string{}
		}
		pods.MatchLabels[translate.LabelManagedBy] = t.VCluster
		if p.NamespaceSelector == nil {
			pods.MatchLabels[translate.LabelNamespace] = vns
		} else {
			names, err := namespaces(*p.NamespaceSelector)
			if err != nil {
				return nil, err
			}
			if len(names) == 0 {
				names = []string{noNamespace}
			}
			pods.MatchExpressions = append(pods.MatchExpressions, metav1.LabelSelectorRequirement{
				Key: translate.LabelNamespace, Operator: metav1.LabelSelectorOpIn, Values: names})
		}
		out = append(out, networkingv1.NetworkPolicyPeer{PodSelector: pods})
	}
	return out, nil
}

func ports(in []networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicyPort {
	if in == nil {
		return nil
	}
	out := make([]networkingv1.NetworkPolicyPort, len(in))
	for i, p := range in {
		out[i] = networkingv1.NetworkPolicyPort{Protocol: cp(p.Protocol), Port: cp(p.Port), EndPort: cp(p.EndPort)}
	}
	return out
}

// selector copies a label selector field by field.
func selector(v *metav1.LabelSelector) *metav1.LabelSelector {
	if v == nil {
		return nil
	}
	out := &metav1.LabelSelector{MatchLabels: maps.Clone(v.MatchLabels)}
	for _, r := range v.MatchExpressions {
		out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{Key: r.Key, Operator: r.Operator,
			Values: append([]string(nil), r.Values...)})
	}
	return out
}

func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	x := *p
	return &x
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
	updated := hObj.(*networkingv1.NetworkPolicy).DeepCopy()
	changed := translate.MergeMeta(&updated.ObjectMeta, want.ObjectMeta)
	if !equality.Semantic.DeepEqual(want.Spec, updated.Spec) {
		updated.Spec, changed = want.Spec, true
	}
	if !changed {
		return nil
	}
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
