// Package allowlist declares, as data, which JSON field paths the syncer may write on a host object.
package allowlist

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// List is a kind's allow-list: JSON field paths of the host object, dot-separated, with
// "[]" after a list ("spec.ports[].port") and "*" for any key of a map
// ("spec.selector.*"). A path is allowed when it is in the list or a prefix of an entry.
type List []string

// Metadata is what the syncer writes in every host object's metadata. Label and
// annotation keys are checked separately (translate.ReservedKey, translate.AllowedAnnotation).
var Metadata = List{"metadata.name", "metadata.namespace", "metadata.labels.*", "metadata.annotations.*"}

// Join is the union of lists.
func Join(lists ...List) List { return slices.Concat(lists...) }

// Violations marshals obj to JSON and returns every field path present in it that l does
// not allow, sorted. Nulls count as absent; empty objects and lists count as present: "emptyDir: {}" chooses a
// volume type.
func (l List) Violations(obj any) ([]string, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("marshalling: %w", err)
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("unmarshalling: %w", err)
	}
	known := l.closure()
	var out []string
	walk(tree, "", known, func(p string) { out = append(out, p) })
	slices.Sort(out)
	return slices.Compact(out), nil
}

// closure is every entry and every prefix of one.
func (l List) closure() map[string]bool {
	out := map[string]bool{}
	for _, p := range l {
		for i := range len(p) {
			if p[i] == '.' || p[i] == '[' {
				out[p[:i]] = true
			}
		}
		out[p] = true
	}
	return out
}

// walk calls bad for every path under node that known does not hold.
func walk(node any, path string, known map[string]bool, bad func(string)) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if v == nil {
				continue // null is absent (a zero metav1.Time marshals as null)
			}
			child := join(path, k)
			if known[join(path, "*")] {
				child = join(path, "*")
			}
			if !known[child] {
				bad(child)
				continue
			}
			walk(v, child, known, bad)
		}
	case []any:
		child := path + "[]"
		if len(n) > 0 && !known[child] {
			bad(child)
			return
		}
		for _, v := range n {
			walk(v, child, known, bad)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + strings.ReplaceAll(key, ".", "\\.")
}
