package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// decodeYAMLDocuments converts every non-empty document of a YAML stream to
// JSON. YAML 1.2 is used, as in gator, so `violations: yes` stays a string.
func decodeYAMLDocuments(data []byte) ([][]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs [][]byte
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parsing YAML: %w", err)
		}
		if doc == nil {
			continue
		}
		js, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("converting YAML document %d to JSON: %w", len(docs)+1, err)
		}
		docs = append(docs, js)
	}
}

// DecodeObjects parses every document of a YAML stream as a Kubernetes object.
func DecodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	docs, err := decodeYAMLDocuments(data)
	if err != nil {
		return nil, err
	}
	objs := make([]*unstructured.Unstructured, 0, len(docs))
	for i, doc := range docs {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(doc); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		objs = append(objs, u)
	}
	return objs, nil
}

// readObjects reads and parses the Kubernetes objects in fsys at name.
func readObjects(fsys fs.FS, name string) ([]*unstructured.Unstructured, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	objs, err := DecodeObjects(data)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("reading %s: %w", name, errNoObjects)
	}
	return objs, nil
}

// readObject reads a file that must hold exactly one Kubernetes object.
func readObject(fsys fs.FS, name string) (*unstructured.Unstructured, error) {
	objs, err := readObjects(fsys, name)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("reading %s: %w: found %d", name, errNotOneObject, len(objs))
	}
	return objs[0], nil
}
