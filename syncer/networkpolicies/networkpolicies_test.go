package networkpolicies

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/syncer/translate"
)

func TestToHostPeers(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	byLabel := map[string][]string{"prod": {"shop", "pay"}}
	resolve := func(sel metav1.LabelSelector) ([]string, error) { return byLabel[sel.MatchLabels["env"]], nil }
	tests := []struct {
		name      string
		peer      networkingv1.NetworkPolicyPeer
		wantNS    string   // MatchLabels namespace, for same-namespace peers
		wantNames []string // MatchExpressions In values, for namespace-selector peers
	}{
		{name: "pod selector stays in its namespace", peer: networkingv1.NetworkPolicyPeer{
			PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "fe"}}}, wantNS: "shop"},
		{name: "namespace selector becomes namespace names", peer: networkingv1.NetworkPolicyPeer{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}, wantNames: []string{"shop", "pay"}},
		{name: "namespace selector matching nothing matches nothing", peer: networkingv1.NetworkPolicyPeer{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "none"}}}, wantNames: []string{noNamespace}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}, Spec: networkingv1.NetworkPolicySpec{
				Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{tt.peer}}}}}
			h, err := ToHost(v, tr, resolve)
			if err != nil {
				t.Fatal(err)
			}
			if h.Spec.PodSelector.MatchLabels[translate.LabelNamespace] != "shop" {
				t.Errorf("policy pod selector %v", h.Spec.PodSelector)
			}
			p := h.Spec.Ingress[0].From[0]
			if p.NamespaceSelector != nil || p.PodSelector.MatchLabels[translate.LabelManagedBy] != "team-a" {
				t.Fatalf("peer %+v", p)
			}
			if got := p.PodSelector.MatchLabels[translate.LabelNamespace]; got != tt.wantNS {
				t.Errorf("peer namespace label %q, want %q", got, tt.wantNS)
			}
			if tt.wantNames != nil && (len(p.PodSelector.MatchExpressions) != 1 ||
				len(p.PodSelector.MatchExpressions[0].Values) != len(tt.wantNames) || p.PodSelector.MatchExpressions[0].Values[0] != tt.wantNames[0]) {
				t.Errorf("peer expressions %+v, want In %v", p.PodSelector.MatchExpressions, tt.wantNames)
			}
		})
	}
}

func TestToHostRefusesAndNarrows(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	none := func(metav1.LabelSelector) ([]string, error) { return nil, nil }
	t.Run("ipBlock refused", func(t *testing.T) {
		v := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}, Spec: networkingv1.NetworkPolicySpec{
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}}}}}
		_, err := ToHost(v, tr, none)
		if err == nil || !translate.IsRefused(err) || !strings.Contains(err.Error(), "spec.egress[0].to[0].ipBlock is not allowed") {
			t.Fatalf("err = %v", err)
		}
	})
	for _, dir := range []string{"ingress", "egress"} {
		t.Run("no peers in "+dir+" means this vcluster's pods", func(t *testing.T) {
			v := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}}
			if dir == "ingress" {
				v.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
			} else {
				v.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
			}
			h, err := ToHost(v, tr, none)
			if err != nil {
				t.Fatal(err)
			}
			var peers []networkingv1.NetworkPolicyPeer
			if dir == "ingress" {
				peers = h.Spec.Ingress[0].From
			} else {
				peers = h.Spec.Egress[0].To
			}
			if len(peers) != 1 || peers[0].PodSelector == nil || peers[0].PodSelector.MatchLabels[translate.LabelManagedBy] != "team-a" ||
				peers[0].NamespaceSelector != nil || peers[0].IPBlock != nil {
				t.Fatalf("peers %+v", peers)
			}
		})
	}
}
