package loader

import (
	"bytes"
	"encoding/json"
	"reflect"

	yaml "go.yaml.in/yaml/v3"
)

// decodeInto checks root against the Go type into points to, records the problems and
// the line of every field in c, and decodes the accepted values into into. It returns
// false when nothing could be decoded.
func decodeInto(c *collector, root *yaml.Node, into any, forbidden map[string]string) bool {
	c.lines[""] = root.Line
	val, ok := newWalker(c, forbidden).walk(root, reflect.TypeOf(into).Elem(), "")
	if !ok || val == nil {
		return false
	}
	raw, err := json.Marshal(val)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		err = dec.Decode(into)
	}
	if err != nil {
		c.at(root.Line, "", "internal error: decoding the checked document: %v", err)
		return false
	}
	return true
}
