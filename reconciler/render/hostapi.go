package render

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// HostAPI is where the host's kube-apiserver answers, as tenant pods (the syncer) reach
// it: the kubernetes Service's ClusterIP and the endpoints behind it. The zero value
// means unknown.
type HostAPI struct {
	ServiceIP netip.Addr
	Endpoints []netip.AddrPort
}

// kubeAPIEgress allows egress to the host API server: exactly its endpoints (NetworkPolicy
// sees the address after kube-proxy's DNAT) and the Service's ClusterIP on 443 (for
// enforcers that see it before). Unknown endpoints fall back to ports 443 and 6443 on
// any address.
func kubeAPIEgress(api HostAPI) []networkingv1.NetworkPolicyEgressRule {
	tcp := corev1.ProtocolTCP
	if len(api.Endpoints) == 0 {
		https, apiPort := intstr.FromInt32(443), intstr.FromInt32(6443)
		return []networkingv1.NetworkPolicyEgressRule{{
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &https}, {Protocol: &tcp, Port: &apiPort}},
		}}
	}
	var rules []networkingv1.NetworkPolicyEgressRule
	add := func(addr netip.Addr, port uint16) {
		p := intstr.FromInt32(int32(port))
		rules = append(rules, networkingv1.NetworkPolicyEgressRule{
			To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: netip.PrefixFrom(addr, addr.BitLen()).String()}}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &p}},
		})
	}
	if api.ServiceIP.IsValid() {
		add(api.ServiceIP, 443)
	}
	for _, ep := range api.Endpoints {
		add(ep.Addr(), ep.Port())
	}
	return rules
}
