package apply

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler/plan"
)

// Drift lists, by server-side dry-run, the objects that differ from the live state with
// their drifted field paths, and each one's fields with live (Old) and desired (New)
// values, by object name; Secret values are masked.
func (m *Manager) Drift(ctx context.Context, objs []*unstructured.Unstructured) ([]v1alpha1.DriftObject, map[string][]notify.FieldChange, error) {
	var drifted []v1alpha1.DriftObject
	var changes map[string][]notify.FieldChange
	for _, obj := range objs {
		entry, live, merged, err := m.Diff(ctx, obj)
		if err != nil {
			return drifted, changes, fmt.Errorf("diffing %s: %w", plan.ObjectName(obj), err)
		}
		switch entry.Action {
		case ssa.CreatedAction:
			drifted = append(drifted, v1alpha1.DriftObject{Object: plan.ObjectName(obj), Fields: []string{"(deleted)"}})
		case ssa.ConfiguredAction:
			fields := driftChanges(obj.GetKind(), live.Object, merged.Object)
			if changes == nil {
				changes = map[string][]notify.FieldChange{}
			}
			changes[plan.ObjectName(obj)] = fields
			drifted = append(drifted, v1alpha1.DriftObject{Object: plan.ObjectName(obj), Fields: fieldPaths(fields)})
		}
	}
	return drifted, changes, nil
}

// driftChanges lists the fields where merged (what we apply) differs from live, as
// plan.FieldChanges does for tenantry diff, with the live value as Old and the desired one
// as New ("" when absent, shown as unset). A Secret's values are masked here already,
// before notify masks them again.
func driftChanges(kind string, live, merged map[string]any) []notify.FieldChange {
	var out []notify.FieldChange
	for _, c := range plan.FieldChanges(live, merged) {
		fc := notify.FieldChange{Path: c.Path, Old: notify.Mask, New: notify.Mask}
		if kind != "Secret" {
			fc.Old, fc.New = valueText(c.Old), valueText(c.New)
		}
		out = append(out, fc)
	}
	return out
}

func valueText(v any) string {
	if v == nil {
		return ""
	}
	return plan.FieldValue(v)
}

// fieldPaths are the paths of changes, in order.
func fieldPaths(changes []notify.FieldChange) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Path)
	}
	return out
}
