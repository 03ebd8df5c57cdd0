package allowlist

import (
	"slices"
	"testing"
)

func TestViolations(t *testing.T) {
	l := List{"metadata.name", "spec.ports[].port", "spec.selector.*", "spec.volumes[].emptyDir.medium"}
	tests := []struct {
		name string
		obj  any
		want []string
	}{
		{name: "allowed", obj: map[string]any{"metadata": map[string]any{"name": "x", "creationTimestamp": nil},
			"spec": map[string]any{"ports": []any{map[string]any{"port": 80}}, "selector": map[string]any{"a.b/c": "d"}}}},
		{name: "unknown field", obj: map[string]any{"spec": map[string]any{"externalIPs": []any{"1.2.3.4"}}}, want: []string{"spec.externalIPs"}},
		{name: "unknown list item field", obj: map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": 1, "hostPort": 2}}}},
			want: []string{"spec.ports[].hostPort"}},
		{name: "empty object counts", obj: map[string]any{"spec": map[string]any{"volumes": []any{map[string]any{"nfs": map[string]any{}}}}},
			want: []string{"spec.volumes[].nfs"}},
		{name: "known empty object", obj: map[string]any{"spec": map[string]any{"volumes": []any{map[string]any{"emptyDir": map[string]any{}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Violations(tt.obj)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("Violations = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
