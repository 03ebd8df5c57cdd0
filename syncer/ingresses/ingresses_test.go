package ingresses

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/syncer/translate"
)

func TestHostAllowed(t *testing.T) {
	patterns := []string{"app.team-a.example.com", "*.apps.team-a.example.com"}
	tests := []struct {
		host string
		want bool
	}{
		{"app.team-a.example.com", true},
		{"APP.team-a.example.com", true},
		{"x.apps.team-a.example.com", true},
		{"*.apps.team-a.example.com", true},
		{"x.y.apps.team-a.example.com", false},
		{"apps.team-a.example.com", false},
		{"app.team-b.example.com", false},
		{"evilapps.team-a.example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := HostAllowed(tt.host, patterns); got != tt.want {
			t.Errorf("HostAllowed(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestToHost(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	hosts := []string{"*.team-a.example.com"}
	rule := func(host string) networkingv1.IngressRule {
		return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: "web"}}}}}}}
	}
	tests := []struct {
		name   string
		spec   networkingv1.IngressSpec
		annots map[string]string
		want   string // "" means allowed
	}{
		{name: "own host", spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("web.team-a.example.com")}},
			annots: map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}},
		{name: "foreign host", spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("login.bank.example.com")}},
			want: "spec.rules[0].host is not allowed: login.bank.example.com is not in the tenant file's spec.sync.ingressHosts"},
		{name: "no host", spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("")}}, want: "spec.rules[0].host is not allowed"},
		{name: "default backend", spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web"}}}, want: "spec.defaultBackend is not allowed"},
		{name: "foreign TLS host", spec: networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{Hosts: []string{"bank.example.com"}}}},
			want: "spec.tls[0].hosts[0] is not allowed"},
		{name: "snippet", spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("web.team-a.example.com")}},
			annots: map[string]string{"nginx.ingress.kubernetes.io/server-snippet": "return 200;"},
			want:   `metadata.annotations["nginx.ingress.kubernetes.io/server-snippet"] is not allowed: snippet annotations`},
		{name: "auth-url", spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{rule("web.team-a.example.com")}},
			annots: map[string]string{"nginx.ingress.kubernetes.io/auth-url": "http://10.0.0.1"},
			want:   `metadata.annotations["nginx.ingress.kubernetes.io/auth-url"] is not allowed: only these ingress-nginx annotations`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: tt.annots}, Spec: tt.spec}
			h, err := ToHost(v, tr, hosts)
			if tt.want != "" {
				if err == nil || !translate.IsRefused(err) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name; got != "web-x-shop-x-team-a" {
				t.Errorf("backend %q", got)
			}
			for k, v := range tt.annots {
				if h.Annotations[k] != v {
					t.Errorf("annotation %s dropped", k)
				}
			}
		})
	}
}
