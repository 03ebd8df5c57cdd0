package loader

import (
	"reflect"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	quantityType   = reflect.TypeFor[resource.Quantity]()
	jsonType       = reflect.TypeFor[apiextensionsv1.JSON]()
	objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()
)

// objectMetaFields are the only metadata fields a repo file may set.
var objectMetaFields = map[string]reflect.Type{
	"name":        reflect.TypeFor[string](),
	"labels":      reflect.TypeFor[map[string]string](),
	"annotations": reflect.TypeFor[map[string]string](),
}

// maxNodes bounds the nodes visited in one file, aliases expanded, so that a small file
// full of nested aliases cannot make the loader do unbounded work.
const maxNodes = 100_000

// walker checks a YAML node tree against a Go type by reflection, using the json tags
// as field names, the way the API server's strict decoding would. It records every
// problem in the collector with its line, records the line of every field it sees, and
// returns the accepted values as plain JSON values, leaving out the rejected ones, so
// that they can be decoded into the Go type.
type walker struct {
	c *collector
	// forbidden are known fields that a file must not set, with the reason.
	forbidden map[string]string
	visited   int
	// expanding are the anchored nodes being walked, to catch an alias inside its anchor.
	expanding map[*yaml.Node]bool
}

func newWalker(c *collector, forbidden map[string]string) *walker {
	return &walker{c: c, forbidden: forbidden, expanding: map[*yaml.Node]bool{}}
}

// walk returns the JSON value of n checked against t; ok is false when n was rejected.
// A nil value with ok true means the field is unset (YAML null).
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) (any, bool) {
	if t.Kind() == reflect.Pointer {
		if isNull(n) {
			return nil, true
		}
		t = t.Elem()
	}
	if t == jsonType {
		return w.anyValue(n, path, 0)
	}
	if n.Kind == yaml.AliasNode {
		return w.alias(n, path, func(target *yaml.Node) (any, bool) { return w.walk(target, t, path) })
	}
	if !w.visit(n, path) {
		return nil, false
	}
	defer w.expand(n)()
	switch {
	case t == quantityType:
		return w.quantity(n, path)
	case isNull(n):
		return nil, true
	}
	return w.byKind(n, t, path)
}

func (w *walker) byKind(n *yaml.Node, t reflect.Type, path string) (any, bool) {
	switch t.Kind() {
	case reflect.Struct:
		return w.object(n, t, path)
	case reflect.Map:
		return w.mapping(n, t.Elem(), path)
	case reflect.Slice:
		return w.list(n, t.Elem(), path)
	case reflect.String:
		return w.str(n, path)
	case reflect.Bool:
		return w.boolean(n, path)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return w.integer(n, path)
	}
	w.c.reject(n.Line, path, "internal error: no schema for Go type %s", t)
	return nil, false
}

// visit counts n against maxNodes; it reports the limit once.
func (w *walker) visit(n *yaml.Node, path string) bool {
	w.visited++
	if w.visited == maxNodes+1 {
		w.c.reject(n.Line, path, "too many YAML nodes (more than %d, aliases expanded)", maxNodes)
	}
	return w.visited <= maxNodes
}

// alias walks the target of an alias node with f.
func (w *walker) alias(n *yaml.Node, path string, f func(*yaml.Node) (any, bool)) (any, bool) {
	target := n.Alias
	switch {
	case target == nil:
		w.c.reject(n.Line, path, "unknown alias *%s", n.Value)
		return nil, false
	case w.expanding[target]:
		w.c.reject(n.Line, path, "alias *%s is used inside its own anchor", n.Value)
		return nil, false
	}
	return f(target)
}

// expand marks an anchored node as being walked until the returned func is called.
func (w *walker) expand(n *yaml.Node) func() {
	if n.Anchor == "" {
		return func() {}
	}
	w.expanding[n] = true
	return func() { delete(w.expanding, n) }
}

// object checks a mapping against the fields of struct type t.
func (w *walker) object(n *yaml.Node, t reflect.Type, path string) (any, bool) {
	if n.Kind != yaml.MappingNode {
		return w.wrongType(n, path, "a map")
	}
	fields := structFields(t)
	out := map[string]any{}
	w.entries(n, path, func(key string, k, v *yaml.Node) {
		ft, known := fields[key]
		if !known {
			w.c.at(k.Line, path, "unknown field %q", key)
			return
		}
		w.field(out, key, k, v, ft, child(path, key))
	})
	return out, true
}

// mapping checks a mapping whose values all have type elem.
func (w *walker) mapping(n *yaml.Node, elem reflect.Type, path string) (any, bool) {
	if n.Kind != yaml.MappingNode {
		return w.wrongType(n, path, "a map")
	}
	out := map[string]any{}
	w.entries(n, path, func(key string, k, v *yaml.Node) {
		w.field(out, key, k, v, elem, child(path, key))
	})
	return out, true
}

// field walks one map entry, recording the key's line, and stores the accepted value.
func (w *walker) field(out map[string]any, key string, k, v *yaml.Node, t reflect.Type, path string) {
	w.c.lines[path] = k.Line
	if reason, ok := w.forbidden[path]; ok {
		w.c.reject(k.Line, path, "%s", reason)
		return
	}
	if val, ok := w.walk(v, t, path); ok && val != nil {
		out[key] = val
	}
}

// entries calls f for each key of a mapping, once per key: duplicate keys, merge keys
// and non-string keys are errors.
func (w *walker) entries(n *yaml.Node, path string, f func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key, ok := w.key(k, path)
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			w.c.at(k.Line, path, "duplicate field %q (first set on line %d)", key, first)
			continue
		}
		seen[key] = k.Line
		f(key, k, v)
	}
}

// key returns the string value of a mapping key.
func (w *walker) key(k *yaml.Node, path string) (string, bool) {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	switch {
	case k.Kind != yaml.ScalarNode:
		w.c.at(k.Line, path, "map keys must be strings, got %s", describe(k))
		return "", false
	case k.Tag == "!!merge":
		w.c.at(k.Line, path, "merge keys (<<) are not supported")
		return "", false
	}
	return k.Value, true
}

// list checks a sequence whose items have type elem.
func (w *walker) list(n *yaml.Node, elem reflect.Type, path string) (any, bool) {
	if n.Kind != yaml.SequenceNode {
		return w.wrongType(n, path, "a list")
	}
	out := make([]any, 0, len(n.Content))
	for i, item := range n.Content {
		p := index(path, i)
		w.c.lines[p] = item.Line
		val, _ := w.walk(item, elem, p)
		out = append(out, val)
	}
	return out, true
}

func (w *walker) wrongType(n *yaml.Node, path, want string) (any, bool) {
	w.c.reject(n.Line, path, "expected %s, got %s", want, describe(n))
	return nil, false
}

// structFields returns the fields of struct type t by json name, with embedded
// structs without a name (",inline") flattened. ObjectMeta is restricted to the
// fields a repo file may set.
func structFields(t reflect.Type) map[string]reflect.Type {
	if t == objectMetaType {
		return objectMetaFields
	}
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || (!f.IsExported() && !f.Anonymous):
		case name == "" && f.Anonymous:
			for k, v := range structFields(f.Type) {
				fields[k] = v
			}
		case name == "":
			fields[f.Name] = f.Type
		default:
			fields[name] = f.Type
		}
	}
	return fields
}
