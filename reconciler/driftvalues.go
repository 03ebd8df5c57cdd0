package reconciler

import (
	"github.com/tenantry/tenantry/notify"
)

// driftChanges lists the fields where merged (what we apply) differs from live, as
// FieldChanges does for tenantry diff, with the live value as Old and the desired one
// as New ("" when absent, shown as unset). A Secret's values are masked here already,
// before notify masks them again.
func driftChanges(kind string, live, merged map[string]any) []notify.FieldChange {
	var out []notify.FieldChange
	for _, c := range FieldChanges(live, merged) {
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
	return fieldValue(v)
}

// fieldPaths are the paths of changes, in order.
func fieldPaths(changes []notify.FieldChange) []string {
	var out []string
	for _, c := range changes {
		out = append(out, c.Path)
	}
	return out
}
