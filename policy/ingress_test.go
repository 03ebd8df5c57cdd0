package policy

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const ingressHostsConstraint = `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sAllowedIngressHosts
metadata:
  name: team-a-hosts
spec:
  match:
    kinds:
      - apiGroups: ["networking.k8s.io"]
        kinds: ["Ingress"]
  parameters:
    hosts:
      - "*.team-a.example.com"
      - "exact.example.com"
`

// ingressWithRuleHost returns an Ingress with one rule; host "" omits the
// host field.
func ingressWithRuleHost(host string) string {
	hostLine := ""
	if host != "" {
		hostLine = fmt.Sprintf("host: %q\n      ", host)
	}
	return fmt.Sprintf(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: team-a
spec:
  rules:
    - %shttp:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
`, hostLine)
}

func ingressWithTLSHost(host string) string {
	return fmt.Sprintf(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: team-a
spec:
  tls:
    - hosts: [%q]
      secretName: web-tls
  rules:
    - host: app.team-a.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
`, host)
}

func TestIngressHostMatching(t *testing.T) {
	e := newLibraryEngine(t, "K8sAllowedIngressHosts", mustObject(t, ingressHostsConstraint))
	tests := []struct {
		name    string
		ingress string
		allowed bool
		message string // substring of the single expected violation
	}{
		{"wildcard one label", ingressWithRuleHost("app.team-a.example.com"), true, ""},
		{"wildcard host itself", ingressWithRuleHost("*.team-a.example.com"), true, ""},
		{"case-insensitive", ingressWithRuleHost("App.Team-A.example.com"), true, ""},
		{"exact host", ingressWithRuleHost("exact.example.com"), true, ""},
		{"apex of wildcard", ingressWithRuleHost("team-a.example.com"), false, "host <team-a.example.com> is not allowed"},
		{"nested subdomain", ingressWithRuleHost("a.b.team-a.example.com"), false, "host <a.b.team-a.example.com> is not allowed"},
		{"empty label", ingressWithRuleHost(".team-a.example.com"), false, "is not allowed"},
		{"suffix without dot", ingressWithRuleHost("evilteam-a.example.com"), false, "is not allowed"},
		{"wider wildcard", ingressWithRuleHost("*.example.com"), false, "host <*.example.com> is not allowed"},
		{"subdomain of exact host", ingressWithRuleHost("www.exact.example.com"), false, "is not allowed"},
		{"exact host prefix", ingressWithRuleHost("exact.example.com.evil.net"), false, "is not allowed"},
		{"empty host", ingressWithRuleHost(""), false, "rule 0 has no host"},
		{"tls wildcard", ingressWithTLSHost("api.team-a.example.com"), true, ""},
		{"tls apex", ingressWithTLSHost("team-a.example.com"), false, "TLS host <team-a.example.com> is not allowed"},
		{"tls empty", ingressWithTLSHost(""), false, "TLS host <> is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := review(t, e, mustObject(t, tt.ingress))
			if tt.allowed {
				if len(got) != 0 {
					t.Fatalf("Review() = %+v, want no violations", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("Review() = %+v, want exactly one violation", got)
			}
			if !strings.Contains(got[0].Message, tt.message) {
				t.Errorf("violation message = %q, want it to contain %q", got[0].Message, tt.message)
			}
		})
	}
}

func TestIngressHostsIgnoresOtherKinds(t *testing.T) {
	// No match block: the constraint sees every kind, the Rego only Ingresses.
	constraint := mustObject(t, ingressHostsConstraint)
	unstructured.RemoveNestedField(constraint.Object, "spec", "match")
	e := newLibraryEngine(t, "K8sAllowedIngressHosts", constraint)
	svc := mustObject(t, "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: team-a\n")
	if got := review(t, e, svc); len(got) != 0 {
		t.Fatalf("Review(Service) = %+v, want no violations", got)
	}
}
