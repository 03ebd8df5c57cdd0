package loader

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestParseTenantBounded checks that small hostile files are rejected quickly.
func TestParseTenantBounded(t *testing.T) {
	aliasBomb := []string{"        a0: &a0 [x, x, x, x, x, x, x, x, x, x]"}
	for i := 1; i < 9; i++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", ")
		aliasBomb = append(aliasBomb, fmt.Sprintf("        a%d: &a%d [%s]", i, i, refs))
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	tests := []struct {
		name string
		in   string
		want string
	}{{
		name: "alias expansion",
		in:   tenantDoc("team-a", append([]string{"  policies:", "    - template: T", "      parameters:"}, aliasBomb...)...),
		want: "too many YAML nodes (more than 100000, aliases expanded)",
	}, {
		name: "deep nesting",
		in:   tenantDoc("team-a", "  policies:", "    - template: T", "      parameters: "+deep),
		want: "tenants/team-a.yaml:8: spec.policies[0].parameters" + strings.Repeat("[0]", 65) + ": value nested more than 64 levels deep",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, errs := ParseTenant("tenants/team-a.yaml", []byte(tt.in))
			if !strings.Contains(errs.Error(), tt.want) {
				t.Errorf("errors:\n%v\nwant one containing %q", errs, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}
