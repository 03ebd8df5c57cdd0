package loader

import (
	"fmt"
	"math"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
)

// maxDepth bounds the nesting of free-form values (policy parameters).
const maxDepth = 64

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// str accepts any scalar but a boolean; numbers keep their text as written, so that
// an unquoted kubernetesVersion: 1.30 stays "1.30".
func (w *walker) str(n *yaml.Node, path string) (any, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!bool" {
		return w.wrongType(n, path, "a string")
	}
	return n.Value, true
}

func (w *walker) boolean(n *yaml.Node, path string) (any, bool) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return w.wrongType(n, path, "a boolean (true or false)")
	}
	return b, true
}

func (w *walker) integer(n *yaml.Node, path string) (any, bool) {
	var i int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
		return w.wrongType(n, path, "an integer")
	}
	return i, true
}

// quantity accepts a non-negative resource quantity ("500m", "2Gi", 4).
func (w *walker) quantity(n *yaml.Node, path string) (any, bool) {
	if n.Kind != yaml.ScalarNode {
		return w.wrongType(n, path, "a quantity")
	}
	value := n.Value
	if isNull(n) {
		value = ""
	}
	q, err := resource.ParseQuantity(value)
	switch {
	case err != nil:
		w.c.reject(n.Line, path, "invalid quantity %q", truncate(value))
		return nil, false
	case q.Sign() < 0:
		w.c.reject(n.Line, path, "invalid quantity %q: must not be negative", truncate(value))
		return nil, false
	}
	return value, true
}

// anyValue accepts any JSON-representable value (for apiextensionsv1.JSON fields).
func (w *walker) anyValue(n *yaml.Node, path string, depth int) (any, bool) {
	if n.Kind == yaml.AliasNode {
		return w.alias(n, path, func(target *yaml.Node) (any, bool) { return w.anyValue(target, path, depth) })
	}
	if !w.visit(n, path) {
		return nil, false
	}
	defer w.expand(n)()
	if depth > maxDepth {
		w.c.reject(n.Line, path, "value nested more than %d levels deep", maxDepth)
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		out := map[string]any{}
		w.entries(n, path, func(key string, _, v *yaml.Node) {
			if val, ok := w.anyValue(v, child(path, key), depth+1); ok {
				out[key] = val
			}
		})
		return out, true
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			val, _ := w.anyValue(item, index(path, i), depth+1)
			out = append(out, val)
		}
		return out, true
	}
	return w.anyScalar(n, path)
}

func (w *walker) anyScalar(n *yaml.Node, path string) (any, bool) {
	var v any
	switch n.Tag {
	case "!!null":
		return nil, true
	case "!!bool", "!!int", "!!float":
		if err := n.Decode(&v); err != nil {
			w.c.reject(n.Line, path, "invalid %s value %q", n.ShortTag()[2:], truncate(n.Value))
			return nil, false
		}
	default:
		return n.Value, true
	}
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		w.c.reject(n.Line, path, "%s cannot be represented in JSON", n.Value)
		return nil, false
	}
	return v, true
}

// describe names a node's type (and value, for scalars) in error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!bool":
		return "boolean " + n.Value
	case "!!int", "!!float":
		return "number " + truncate(n.Value)
	case "!!null":
		return "null"
	}
	return "string " + strconv.Quote(truncate(n.Value))
}

// truncate shortens long values quoted in messages.
func truncate(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return fmt.Sprintf("%s...", s[:limit])
}
