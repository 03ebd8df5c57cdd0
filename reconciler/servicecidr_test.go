package reconciler

import "testing"

func TestSameCIDRs(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"10.96.0.0/16", "10.96.0.0/16", true},
		{"10.96.0.0/16", "10.96.0.0/12", false},
		{"10.96.0.1/16", "10.96.0.0/16", true}, // the same network, written with a host address
		{"10.96.0.0/16,fd00::/108", "fd00::/108, 10.96.0.0/16", true},
		{"10.96.0.0/16", "10.96.0.0/16,fd00::/108", false},
	}
	for _, tt := range tests {
		if got := sameCIDRs(tt.a, tt.b); got != tt.want {
			t.Errorf("sameCIDRs(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
