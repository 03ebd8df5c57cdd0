package reconciler

import (
	"reflect"
	"testing"
)

func TestDiffPaths(t *testing.T) {
	tests := []struct {
		name         string
		live, merged map[string]any
		want         []string
	}{
		{name: "equal", live: map[string]any{"spec": map[string]any{"a": "1"}}, merged: map[string]any{"spec": map[string]any{"a": "1"}}},
		{
			name:   "changed scalar",
			live:   map[string]any{"spec": map[string]any{"hard": map[string]any{"pods": "99", "cpu": "4"}}},
			merged: map[string]any{"spec": map[string]any{"hard": map[string]any{"pods": "10", "cpu": "4"}}},
			want:   []string{"spec.hard.pods"},
		},
		{
			name:   "added and removed keys",
			live:   map[string]any{"metadata": map[string]any{"labels": map[string]any{"x": "1"}}},
			merged: map[string]any{"metadata": map[string]any{"labels": map[string]any{"y": "1"}}},
			want:   []string{"metadata.labels.x", "metadata.labels.y"},
		},
		{
			name:   "ignores bookkeeping",
			live:   map[string]any{"metadata": map[string]any{"resourceVersion": "1", "managedFields": []any{1}}, "status": map[string]any{"a": 1}},
			merged: map[string]any{"metadata": map[string]any{"resourceVersion": "2"}, "status": map[string]any{"a": 2}},
		},
		{
			name:   "lists compare whole",
			live:   map[string]any{"spec": map[string]any{"l": []any{"a"}}},
			merged: map[string]any{"spec": map[string]any{"l": []any{"a", "b"}}},
			want:   []string{"spec.l"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diffPaths(tt.live, tt.merged); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("diffPaths = %v, want %v", got, tt.want)
			}
		})
	}
}
