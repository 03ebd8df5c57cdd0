package nodes

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

func TestPointAtSyncer(t *testing.T) {
	syncer := corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}
	for _, tc := range []struct {
		name string
		in   []corev1.NodeAddress
		want []corev1.NodeAddress
	}{
		{name: "pseudo node", in: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n1"}},
			want: []corev1.NodeAddress{syncer, {Type: corev1.NodeHostName, Address: "n1"}}},
		{name: "host node addresses replaced, host name kept", in: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "10.0.0.5"}, {Type: corev1.NodeExternalIP, Address: "203.0.113.9"},
			{Type: corev1.NodeHostName, Address: "n1"}, {Type: corev1.NodeInternalDNS, Address: "n1.internal"},
		}, want: []corev1.NodeAddress{syncer, {Type: corev1.NodeHostName, Address: "n1"}}},
		{name: "no addresses", want: []corev1.NodeAddress{syncer}},
		{name: "already pointing", in: []corev1.NodeAddress{syncer}, want: []corev1.NodeAddress{syncer}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status := corev1.NodeStatus{Addresses: tc.in,
				DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}}}
			PointAtSyncer(&status, 10350)
			if !equality.Semantic.DeepEqual(status.Addresses, tc.want) {
				t.Errorf("addresses = %v, want %v", status.Addresses, tc.want)
			}
			if got := status.DaemonEndpoints.KubeletEndpoint.Port; got != 10350 {
				t.Errorf("kubelet port = %d, want 10350", got)
			}
		})
	}
}
