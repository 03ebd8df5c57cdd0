package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// document is one YAML document of a file and the line it starts on.
type document struct {
	obj  *unstructured.Unstructured
	line int
}

// decodeDocuments decodes every non-empty document of a multi-document YAML file.
func decodeDocuments(data []byte) ([]document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []document
	for {
		var node yaml.Node
		if err := dec.Decode(&node); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("decoding YAML: %w", err)
		}
		var m map[string]any
		if err := node.Decode(&m); err != nil {
			return nil, fmt.Errorf("line %d: %w", node.Line, err)
		}
		if len(m) == 0 {
			continue
		}
		// A JSON round trip gives the int64/float64 values unstructured objects require.
		data, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", node.Line, err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("line %d: %w", node.Line, err)
		}
		out = append(out, document{obj: obj, line: node.Line})
	}
}

// lineOf returns the line of a field (path segments; list indexes as numbers) in a repo
// file, or 0 when it cannot be found.
func lineOf(dir, file string, path ...string) int {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		return 0
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return 0
	}
	node := root.Content[0]
	for _, seg := range path {
		if node = child(node, seg); node == nil {
			return 0
		}
	}
	return node.Line
}

func child(n *yaml.Node, seg string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

func splitDots(s string) []string { return strings.Split(s, ".") }
