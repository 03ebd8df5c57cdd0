package endpoints

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/syncer/translate"
)

//nolint:staticcheck // selector-less services are served by Endpoints.
func TestToHostOnlyOwnPodIPs(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	owns := func(ip string) (bool, error) { return ip == "10.244.0.7", nil }
	tests := []struct {
		name string
		ips  []string
		want string // "" means allowed
	}{
		{name: "own pod", ips: []string{"10.244.0.7"}},
		{name: "another tenant's pod", ips: []string{"10.244.0.7", "10.244.1.9"}, want: "subsets[0].addresses[1].ip is not allowed: 10.244.1.9 is not the IP"},
		{name: "a node", ips: []string{"192.168.1.10"}, want: "subsets[0].addresses[0].ip is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}}
			s := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Port: 5432}}}
			for _, ip := range tt.ips {
				s.Addresses = append(s.Addresses, corev1.EndpointAddress{IP: ip, NodeName: new("n1"),
					TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "db-0", Namespace: "shop"}})
			}
			v.Subsets = []corev1.EndpointSubset{s}
			h, err := ToHost(v, tr, owns)
			if tt.want != "" {
				if err == nil || !translate.IsRefused(err) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := h.Subsets[0].Addresses[0]
			if a.NodeName != nil || a.TargetRef.Name != "db-0-x-shop-x-team-a" || a.TargetRef.Namespace != "tenant-team-a" {
				t.Errorf("address %+v", a)
			}
		})
	}
}
