package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/tenantry/tenantry/reconciler/render"
)

// FieldChange is one changed field; Old is nil for an added field, New for a removed one.
type FieldChange struct {
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// RevisionAnnotationPath is the FieldChange path of the tenantry.dev/revision annotation.
var RevisionAnnotationPath = "metadata.annotations" + pathKey(render.AnnotationCommit)

// ignoredPaths are server-set metadata and status, never a change or drift.
var ignoredPaths = map[string]bool{
	"metadata.managedFields": true, "metadata.resourceVersion": true, "metadata.generation": true,
	"metadata.uid": true, "metadata.creationTimestamp": true, "status": true,
}

// FieldChanges lists the fields where merged (what would be applied) differs from live,
// sorted by path. Maps are compared per key and lists of equal length per item; server-set
// metadata and status are ignored, as in drift detection.
func FieldChanges(live, merged map[string]any) []FieldChange {
	var out []FieldChange
	walkChanges("", live, merged, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func walkChanges(path string, old, cur any, out *[]FieldChange) {
	if ignoredPaths[path] {
		return
	}
	om, oldMap := old.(map[string]any)
	cm, curMap := cur.(map[string]any)
	if oldMap && curMap {
		keys := map[string]bool{}
		for k := range om {
			keys[k] = true
		}
		for k := range cm {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + pathKey(k)
			}
			walkChanges(p, om[k], cm[k], out)
		}
		return
	}
	ol, oldList := old.([]any)
	cl, curList := cur.([]any)
	if oldList && curList && len(ol) == len(cl) {
		for i := range ol {
			walkChanges(path+"["+strconv.Itoa(i)+"]", ol[i], cl[i], out)
		}
		return
	}
	if !reflect.DeepEqual(old, cur) {
		*out = append(*out, FieldChange{Path: path, Old: old, New: cur})
	}
}

// pathKey formats a map key as a path segment: ".key", or `["key"]` when the key holds
// dots or slashes, as label and annotation keys do.
func pathKey(k string) string {
	if strings.ContainsAny(k, "./[]") {
		data, _ := json.Marshal(k)
		return "[" + string(data) + "]"
	}
	return "." + k
}

// String formats the change as "path: old -> new", "path: added: new" or
// "path: removed (was old)"; strings print bare, other values as compact JSON.
func (f FieldChange) String() string {
	switch {
	case f.Old == nil:
		return fmt.Sprintf("%s: added: %s", f.Path, FieldValue(f.New))
	case f.New == nil:
		return fmt.Sprintf("%s: removed (was %s)", f.Path, FieldValue(f.Old))
	}
	return fmt.Sprintf("%s: %s -> %s", f.Path, FieldValue(f.Old), FieldValue(f.New))
}

// FieldValue prints a field's value: a string bare, anything else as compact JSON.
func FieldValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
