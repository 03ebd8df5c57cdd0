package services

import (
	"context"
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/syncer/translate"
)

func TestToHost(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	tests := []struct {
		name         string
		spec         corev1.ServiceSpec
		wantSelector map[string]string
	}{
		{name: "selector narrowed, IP kept", spec: corev1.ServiceSpec{ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}},
			wantSelector: map[string]string{"app": "web", translate.LabelManagedBy: "team-a", translate.LabelNamespace: "shop"}},
		{name: "selector-less stays selector-less", spec: corev1.ServiceSpec{ClusterIP: "10.96.0.21", Ports: []corev1.ServicePort{{Port: 80}}}},
		{name: "node ports left to the host", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.22",
			Selector: map[string]string{"app": "x"}, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}},
			wantSelector: map[string]string{"app": "x", translate.LabelManagedBy: "team-a", translate.LabelNamespace: "shop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: tt.spec}
			h, err := ToHost(v, tr)
			if err != nil {
				t.Fatal(err)
			}
			if h.Name != "web-x-shop-x-team-a" || h.Spec.ClusterIP != tt.spec.ClusterIP {
				t.Errorf("host %s ClusterIP %s", h.Name, h.Spec.ClusterIP)
			}
			if !maps.Equal(h.Spec.Selector, tt.wantSelector) || (tt.wantSelector == nil) != (h.Spec.Selector == nil) {
				t.Errorf("selector %v, want %v", h.Spec.Selector, tt.wantSelector)
			}
			for _, p := range h.Spec.Ports {
				if p.NodePort != 0 {
					t.Errorf("node port %d copied", p.NodePort)
				}
			}
			if len(v.Spec.Ports) > 0 && v.Spec.Ports[0].NodePort != tt.spec.Ports[0].NodePort {
				t.Error("the virtual service was modified")
			}
		})
	}
}

func TestToHostRefuses(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	tests := []struct {
		name string
		spec corev1.ServiceSpec
		want string
	}{
		{name: "externalIPs", spec: corev1.ServiceSpec{ExternalIPs: []string{"1.2.3.4"}}, want: "spec.externalIPs is not allowed"},
		{name: "ExternalName", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "kubernetes.default"},
			want: "spec.type is not allowed: type ExternalName"},
		{name: "loadBalancerIP", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerIP: "1.2.3.4"},
			want: "spec.loadBalancerIP is not allowed"},
		{name: "loadBalancerClass", spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, LoadBalancerClass: new("internal")},
			want: "spec.loadBalancerClass is not allowed"},
		{name: "unknown type", spec: corev1.ServiceSpec{Type: "Mirror"}, want: "spec.type is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ToHost(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "shop"}, Spec: tt.spec}, tr)
			if err == nil || !translate.IsRefused(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a refusal containing %q", err, tt.want)
			}
			raw := tr
			raw.DisableChecks = true
			if h, err := ToHost(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "shop"}, Spec: tt.spec}, raw); err != nil ||
				h.Spec.Type != tt.spec.Type {
				t.Fatalf("DisableChecks: %v, %v", h, err)
			}
		})
	}
}

func TestWithHostNodePorts(t *testing.T) {
	svc := func(nodePorts ...int32) *corev1.Service {
		s := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort}}
		for i, np := range nodePorts {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: 80 + int32(i), Protocol: corev1.ProtocolTCP, NodePort: np})
		}
		return s
	}
	tests := []struct {
		name    string
		v, h    *corev1.Service
		want    []int32 // virtual node ports after; nil: no update
		noWrite bool
	}{
		{name: "host allocated other ports", v: svc(31000, 31001), h: svc(30080, 30081), want: []int32{30080, 30081}},
		{name: "already equal", v: svc(30080), h: svc(30080), noWrite: true},
		{name: "host has none (ClusterIP)", v: svc(0), h: svc(0), noWrite: true},
		{name: "one differs", v: svc(30080, 31001), h: svc(30080, 30081), want: []int32{30080, 30081}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WithHostNodePorts(tt.v, tt.h)
			if tt.noWrite {
				if got != nil {
					t.Fatalf("update %+v, want none", got.Spec.Ports)
				}
				return
			}
			if got == nil {
				t.Fatal("no update")
			}
			for i, p := range got.Spec.Ports {
				if p.NodePort != tt.want[i] {
					t.Fatalf("node ports %+v, want %v", got.Spec.Ports, tt.want)
				}
			}
			if tt.v.Spec.Ports[0].NodePort == got.Spec.Ports[0].NodePort && tt.want[0] != tt.v.Spec.Ports[0].NodePort {
				t.Fatal("the input was modified")
			}
		})
	}
}

func TestWantedLeavesTheControlPlanesServicesVirtual(t *testing.T) {
	tests := []struct {
		ns, name string
		want     bool
	}{
		{"default", "kubernetes", false},
		{"kube-system", "tenantry-metrics", false},
		{"default", "tenantry-metrics", true},
		{"kube-system", "kube-dns", true},
		{"default", "web", true},
	}
	for _, tt := range tests {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: tt.ns, Name: tt.name}}
		got, err := Syncer{}.Wanted(context.Background(), nil, svc)
		if err != nil || got != tt.want {
			t.Errorf("Wanted(%s/%s) = %v, %v; want %v", tt.ns, tt.name, got, err, tt.want)
		}
	}
}
