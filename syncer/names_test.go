package syncer

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
