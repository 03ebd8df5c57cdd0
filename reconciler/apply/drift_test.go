package apply

import (
	"reflect"
	"testing"

	"github.com/tenantry/tenantry/notify"
)

func TestDriftChanges(t *testing.T) {
	tests := []struct {
		name         string
		kind         string
		live, merged map[string]any
		want         []notify.FieldChange
	}{
		{name: "equal", kind: "ConfigMap", live: map[string]any{"data": map[string]any{"a": "1"}}, merged: map[string]any{"data": map[string]any{"a": "1"}}},
		{
			name:   "scalar old and new",
			kind:   "ResourceQuota",
			live:   map[string]any{"spec": map[string]any{"hard": map[string]any{"pods": "99", "cpu": "4"}}},
			merged: map[string]any{"spec": map[string]any{"hard": map[string]any{"pods": "10", "cpu": "4"}}},
			want:   []notify.FieldChange{{Path: "spec.hard.pods", Old: "99", New: "10"}},
		},
		{
			name:   "added field is unset on the live side, removed on the desired side",
			kind:   "Namespace",
			live:   map[string]any{"metadata": map[string]any{"labels": map[string]any{"x": "1"}}},
			merged: map[string]any{"metadata": map[string]any{"labels": map[string]any{"y": "2"}}},
			want:   []notify.FieldChange{{Path: "metadata.labels.x", Old: "1"}, {Path: "metadata.labels.y", New: "2"}},
		},
		{
			name:   "lists and numbers render as JSON, label keys unambiguously",
			kind:   "NetworkPolicy",
			live:   map[string]any{"spec": map[string]any{"ports": []any{int64(443)}}, "metadata": map[string]any{"labels": map[string]any{"a.io/x": "1"}}},
			merged: map[string]any{"spec": map[string]any{"ports": []any{int64(443), int64(6443)}}, "metadata": map[string]any{"labels": map[string]any{}}},
			want: []notify.FieldChange{{Path: `metadata.labels["a.io/x"]`, Old: "1"},
				{Path: "spec.ports", Old: `[443]`, New: `[443,6443]`}},
		},
		{
			name:   "secret values are masked",
			kind:   "Secret",
			live:   map[string]any{"data": map[string]any{"password": "aHVudGVyMg=="}},
			merged: map[string]any{"data": map[string]any{"password": "c2VjcmV0"}},
			want:   []notify.FieldChange{{Path: "data.password", Old: notify.Mask, New: notify.Mask}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := driftChanges(tt.kind, tt.live, tt.merged); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("driftChanges = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestDriftFieldPaths: the field paths recorded on a drifted Tenant.
func TestDriftFieldPaths(t *testing.T) {
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
			if got := fieldPaths(driftChanges("", tt.live, tt.merged)); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("fieldPaths = %v, want %v", got, tt.want)
			}
		})
	}
}
