package plan

import (
	"reflect"
	"testing"
)

func TestFieldChanges(t *testing.T) {
	obj := func(spec map[string]any, meta map[string]any) map[string]any {
		return map[string]any{"metadata": meta, "spec": spec}
	}
	tests := []struct {
		name      string
		live, cur map[string]any
		want      []FieldChange
	}{
		{name: "equal", live: obj(map[string]any{"a": "1"}, nil), cur: obj(map[string]any{"a": "1"}, nil)},
		{
			name: "changed scalar with old and new values",
			live: obj(map[string]any{"hard": map[string]any{"cpu": "4", "pods": "10"}}, nil),
			cur:  obj(map[string]any{"hard": map[string]any{"cpu": "8", "pods": "10"}}, nil),
			want: []FieldChange{{Path: "spec.hard.cpu", Old: "4", New: "8"}},
		},
		{
			name: "added and removed keys",
			live: obj(map[string]any{"hard": map[string]any{"cpu": "4"}}, nil),
			cur:  obj(map[string]any{"hard": map[string]any{"memory": "1Gi"}}, nil),
			want: []FieldChange{{Path: "spec.hard.cpu", Old: "4"}, {Path: "spec.hard.memory", New: "1Gi"}},
		},
		{
			name: "lists of equal length compare per item",
			live: obj(map[string]any{"limits": []any{map[string]any{"type": "Container", "max": map[string]any{"cpu": "2"}}}}, nil),
			cur:  obj(map[string]any{"limits": []any{map[string]any{"type": "Container", "max": map[string]any{"cpu": "3"}}}}, nil),
			want: []FieldChange{{Path: "spec.limits[0].max.cpu", Old: "2", New: "3"}},
		},
		{
			name: "lists of different length compare whole",
			live: obj(map[string]any{"values": []any{"a"}}, nil),
			cur:  obj(map[string]any{"values": []any{"a", "b"}}, nil),
			want: []FieldChange{{Path: "spec.values", Old: []any{"a"}, New: []any{"a", "b"}}},
		},
		{
			name: "annotation keys are quoted; server-set metadata and status are ignored",
			live: map[string]any{"metadata": map[string]any{"resourceVersion": "1", "generation": int64(1),
				"annotations": map[string]any{"tenantry.dev/revision": "main@sha1:a"}}, "status": map[string]any{"x": "1"}},
			cur: map[string]any{"metadata": map[string]any{"resourceVersion": "2", "generation": int64(2),
				"annotations": map[string]any{"tenantry.dev/revision": "main@sha1:b"}}, "status": map[string]any{"x": "2"}},
			want: []FieldChange{{Path: `metadata.annotations["tenantry.dev/revision"]`, Old: "main@sha1:a", New: "main@sha1:b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FieldChanges(tt.live, tt.cur); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("FieldChanges = %#v, want %#v", got, tt.want)
			}
		})
	}
	if RevisionAnnotationPath != `metadata.annotations["tenantry.dev/revision"]` {
		t.Fatalf("RevisionAnnotationPath = %s", RevisionAnnotationPath)
	}
}

func TestFieldChangeString(t *testing.T) {
	tests := []struct {
		in   FieldChange
		want string
	}{
		{FieldChange{Path: "spec.hard.cpu", Old: "4", New: "8"}, "spec.hard.cpu: 4 -> 8"},
		{FieldChange{Path: "spec.hard.memory", New: "1Gi"}, "spec.hard.memory: added: 1Gi"},
		{FieldChange{Path: "spec.hard.cpu", Old: "4"}, "spec.hard.cpu: removed (was 4)"},
		{FieldChange{Path: "spec.paused", Old: false, New: true}, "spec.paused: false -> true"},
		{FieldChange{Path: "spec.values", Old: []any{"a"}, New: []any{"a", "b"}}, `spec.values: ["a"] -> ["a","b"]`},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlanChangedAndFailed(t *testing.T) {
	unchanged := TenantPlan{Name: "a", Objects: []ObjectChange{{Object: "Tenant/a", Action: ActionUnchanged}}}
	tests := []struct {
		name                  string
		plan                  Plan
		wantChanged, wantFail bool
	}{
		{name: "nothing", plan: Plan{Tenants: []TenantPlan{unchanged}}},
		{name: "a configured object", plan: Plan{Tenants: []TenantPlan{unchanged, {Name: "b",
			Objects: []ObjectChange{{Object: "ResourceQuota/tenant-b/tenant-quota", Action: ActionConfigure}}}}}, wantChanged: true},
		{name: "drift corrected by the sync", plan: Plan{Tenants: []TenantPlan{{Name: "b",
			Objects: []ObjectChange{{Action: ActionConfigure, Drift: DriftCorrected}}}}}, wantChanged: true},
		{name: "drift left to the drift check is no change", plan: Plan{Tenants: []TenantPlan{{Name: "b",
			Objects: []ObjectChange{{Action: ActionConfigure, Drift: DriftCheck}}}}}},
		{name: "detect-only drift is no change", plan: Plan{Tenants: []TenantPlan{{Name: "b",
			Objects: []ObjectChange{{Action: ActionCreate, Drift: DriftDetectOnly}}}}}},
		{name: "a held-back prune is no change", plan: Plan{Tenants: []TenantPlan{{Name: "b",
			Objects: []ObjectChange{{Action: ActionDelete, HeldBack: true}}}}}},
		{name: "a template to create", plan: Plan{Templates: []ObjectChange{{Action: ActionCreate}}}, wantChanged: true},
		{name: "a removed tenant", plan: Plan{Removed: []RemovedTenant{{Name: "c"}}}, wantChanged: true},
		{name: "a held-back removal", plan: Plan{Removed: []RemovedTenant{{Name: "c", HeldBack: "limit"}}}},
		{name: "an invalid file", plan: Plan{Invalid: []InvalidFile{{Path: "tenants/x.yaml"}}}, wantFail: true},
		{name: "a tenant error", plan: Plan{Tenants: []TenantPlan{{Name: "x", Error: "dry-run failed"}}}, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.plan.Changed(); got != tt.wantChanged {
				t.Errorf("Changed() = %v, want %v", got, tt.wantChanged)
			}
			if got := tt.plan.Failed(); got != tt.wantFail {
				t.Errorf("Failed() = %v, want %v", got, tt.wantFail)
			}
		})
	}
}
