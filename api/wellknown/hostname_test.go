package wellknown

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestHostName(t *testing.T) {
	long := strings.Repeat("a", 60)
	tests := []struct {
		name, object, namespace, vcluster string
		want                              string
	}{
		{name: "seed example", object: "nginx", namespace: "default", vcluster: "tenant-1", want: "nginx-x-default-x-tenant-1"},
		{name: "exactly 63", object: strings.Repeat("n", 63-len("-x-ns-x-vc")), namespace: "ns", vcluster: "vc",
			want: strings.Repeat("n", 63-len("-x-ns-x-vc")) + "-x-ns-x-vc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HostName(tt.object, tt.namespace, tt.vcluster); got != tt.want {
				t.Fatalf("HostName = %q, want %q", got, tt.want)
			}
		})
	}
	a, b := HostName(long, "ns", "vc"), HostName(long+"b", "ns", "vc")
	for _, n := range []string{a, b} {
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			t.Fatalf("%q is not a DNS label: %v", n, errs)
		}
	}
	if a == b {
		t.Fatalf("two long names collide: %q", a)
	}
}

func TestHostNameValidAndStable(t *testing.T) {
	tests := []struct{ name, ns string }{
		{name: "web", ns: "default"},
		{name: strings.Repeat("p", 60), ns: "default"},
		{name: strings.Repeat("a", 63), ns: strings.Repeat("b", 63)},
		{name: "a.b.c", ns: "default"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := HostName(tt.name, tt.ns, "team-a")
		if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 || len(got) > 63 {
			t.Errorf("HostName(%q, %q) = %q: %v", tt.name, tt.ns, got, errs)
		}
		if got != HostName(tt.name, tt.ns, "team-a") || seen[got] {
			t.Errorf("HostName(%q, %q) = %q is not stable or collides", tt.name, tt.ns, got)
		}
		seen[got] = true
	}
}

// TestHostNameInjective: pairs whose plain forms would be equal get different host names.
func TestHostNameInjective(t *testing.T) {
	tests := []struct{ a, b [2]string }{
		{a: [2]string{"db-x-prod", "dev"}, b: [2]string{"db", "prod-x-dev"}},
		{a: [2]string{"a-x", "b"}, b: [2]string{"a", "x-b"}},
		{a: [2]string{"a", "b-x-c"}, b: [2]string{"a-x-b", "c"}},
	}
	for _, tt := range tests {
		ha, hb := HostName(tt.a[0], tt.a[1], "team-a"), HostName(tt.b[0], tt.b[1], "team-a")
		if ha == hb {
			t.Errorf("%v and %v both map to %q", tt.a, tt.b, ha)
		}
		for _, h := range []string{ha, hb} {
			if errs := validation.IsDNS1123Label(h); len(errs) > 0 {
				t.Errorf("%q: %v", h, errs)
			}
		}
	}
	if got := HostName("web", "shop", "team-a"); got != "web-x-shop-x-team-a" {
		t.Errorf("an unambiguous name is hashed: %q", got)
	}
}
