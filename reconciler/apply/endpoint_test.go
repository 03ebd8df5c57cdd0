package apply

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func node(name string, ready bool, addrs ...corev1.NodeAddress) corev1.Node {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	n := corev1.Node{Status: corev1.NodeStatus{Addresses: addrs, Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}}}
	n.Name = name
	return n
}

func TestNodeAddress(t *testing.T) {
	internal := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}
	}
	external := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: ip}
	}
	for _, tc := range []struct {
		name  string
		nodes []corev1.Node
		want  string
	}{
		{name: "none", want: ""},
		{name: "internal only", nodes: []corev1.Node{node("a", true, internal("10.0.0.1"))}, want: "10.0.0.1"},
		{name: "external wins on any ready node", nodes: []corev1.Node{node("a", true, internal("10.0.0.1")), node("b", true, external("203.0.113.2"))}, want: "203.0.113.2"},
		{name: "first by name", nodes: []corev1.Node{node("b", true, internal("10.0.0.2")), node("a", true, internal("10.0.0.1"))}, want: "10.0.0.1"},
		{name: "not ready skipped", nodes: []corev1.Node{node("a", false, external("203.0.113.1")), node("b", true, internal("10.0.0.2"))}, want: "10.0.0.2"},
		{name: "none ready", nodes: []corev1.Node{node("a", false, internal("10.0.0.1"))}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nodeAddress(tc.nodes); got != tc.want {
				t.Fatalf("nodeAddress = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadBalancerURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []corev1.LoadBalancerIngress
		want string
	}{
		{name: "pending", want: ""},
		{name: "ip", in: []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}}, want: "https://203.0.113.7:443"},
		{name: "ipv6", in: []corev1.LoadBalancerIngress{{IP: "2001:db8::7"}}, want: "https://[2001:db8::7]:443"},
		{name: "hostname", in: []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}, want: "https://lb.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := &corev1.Service{}
			svc.Status.LoadBalancer.Ingress = tc.in
			if got := loadBalancerURL(svc); got != tc.want {
				t.Fatalf("loadBalancerURL = %q, want %q", got, tc.want)
			}
		})
	}
}
