package render_test

import (
	"net/netip"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// exampleHostAPI is a host API server behind the ClusterIP 10.96.0.1, on two endpoints.
var exampleHostAPI = render.HostAPI{
	ServiceIP: netip.MustParseAddr("10.96.0.1"),
	Endpoints: []netip.AddrPort{netip.MustParseAddrPort("192.0.2.10:6443"), netip.MustParseAddrPort("[2001:db8::10]:6443")},
}

// TestKubeAPIEgress checks the egress the isolation allows to the host API server: its
// exact endpoints when known, ports 443 and 6443 anywhere when not.
func TestKubeAPIEgress(t *testing.T) {
	for _, tc := range []struct {
		name string
		api  render.HostAPI
		want []string // "cidr:port" per rule, or ":port,port" for a rule without peers
	}{
		{name: "unknown", want: []string{":443,6443"}},
		{name: "known", api: exampleHostAPI, want: []string{"10.96.0.1/32:443", "192.0.2.10/32:6443", "2001:db8::10/128:6443"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := &v1alpha1.Tenant{}
			tn.Name = "team-x"
			objs, err := render.Tenant(tn, tc.api)
			if err != nil {
				t.Fatal(err)
			}
			got := kubeAPIRules(t, objs)
			if len(got) != len(tc.want) {
				t.Fatalf("rules %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("rules %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// kubeAPIRules summarises the egress rules of the tenantry-allow-kube-api policy.
func kubeAPIRules(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() != "NetworkPolicy" || o.GetName() != "tenantry-allow-kube-api" {
			continue
		}
		var np networkingv1.NetworkPolicy
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &np); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range np.Spec.Egress {
			s := ""
			for _, p := range r.To {
				s += p.IPBlock.CIDR
			}
			s += ":"
			for i, p := range r.Ports {
				if i > 0 {
					s += ","
				}
				s += p.Port.String()
			}
			out = append(out, s)
		}
		return out
	}
	t.Fatal("no tenantry-allow-kube-api NetworkPolicy rendered")
	return nil
}
