package reconciler

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/reconciler/plan"
)

func TestMemo(t *testing.T) {
	sts := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet",
		"metadata": map[string]any{"name": "vc-a", "namespace": "tenant-a", "labels": map[string]any{"x": "y"}}, "spec": map[string]any{"replicas": int64(1)}}}
	p := &plan.Tenant{Name: "a", Input: "in-1", Health: plan.Health{Workloads: []*unstructured.Unstructured{sts}}}
	tests := []struct {
		name           string
		input, version string
		forget         bool
		want           bool
	}{
		{name: "same inputs, same Tenant", input: "in-1", version: "7", want: true},
		{name: "the file or options changed", input: "in-2", version: "7"},
		{name: "the Tenant was written since", input: "in-1", version: "8"},
		{name: "no input digest", input: "", version: "7"},
		{name: "forgotten (failed, paused, removed)", input: "in-1", version: "7", forget: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemo()
			m.remember(p, "7")
			if tt.forget {
				m.forget("a")
			}
			w, ok := m.unchanged("a", tt.input, tt.version)
			if ok != tt.want {
				t.Fatalf("unchanged: %v, want %v", ok, tt.want)
			}
			if ok && (len(w) != 1 || w[0].GetName() != "vc-a" || w[0].GetKind() != "StatefulSet" || w[0].Object["spec"] != nil) {
				t.Errorf("workloads %v, want a stub of the StatefulSet", w)
			}
		})
	}
	m := newMemo()
	m.remember(&plan.Tenant{Name: "b"}, "7") // no input digest: not remembered
	if _, ok := m.unchanged("b", "", "7"); ok {
		t.Error("a plan without an input digest was remembered")
	}
	held := &plan.Tenant{Name: "c", Input: "in-1", PruneHeldBack: true, Stale: []*unstructured.Unstructured{sts}}
	m.remember(held, "7")
	if _, ok := m.unchanged("c", "in-1", "7"); ok {
		t.Error("a plan that held back pruning was remembered: its stale objects would never be pruned")
	}
}
