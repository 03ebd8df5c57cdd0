// Package charts embeds tenantry's Helm charts and renders them client-side with the Helm SDK.
package charts

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Chart directories in the embedded file system.
const (
	VCluster = "vcluster"
	Tenantry = "tenantry"
)

//go:embed all:vcluster all:tenantry
var files embed.FS

// FS returns the embedded chart files, one directory per chart.
func FS() fs.FS { return files }

// Load reads an embedded chart (VCluster or Tenantry) with Helm's loader.
func Load(name string) (*chart.Chart, error) {
	var bufs []*loader.BufferedFile
	err := fs.WalkDir(files, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		bufs = append(bufs, &loader.BufferedFile{Name: strings.TrimPrefix(p, name+"/"), Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading chart %s: %w", name, err)
	}
	ch, err := loader.LoadFiles(bufs)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", name, err)
	}
	return ch, nil
}

// Release names a rendering: Helm's .Release.Name and .Release.Namespace.
type Release struct {
	Name, Namespace string
}

// Render renders an embedded chart with values, client-side: no release state, no cluster
// access. Values are validated against the chart's values.schema.json. The result holds
// the chart's CRDs (crds/) and its templates' objects, sorted by Sort.
func Render(name string, rel Release, values map[string]any) ([]*unstructured.Unstructured, error) {
	ch, err := Load(name)
	if err != nil {
		return nil, err
	}
	return RenderChart(ch, rel, values)
}

// RenderChart renders a loaded chart as Render does (the benchmark renders a peer's chart
// from disk with it).
func RenderChart(ch *chart.Chart, rel Release, values map[string]any) ([]*unstructured.Unstructured, error) {
	name := ch.Name()
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{
		Name: rel.Name, Namespace: rel.Namespace, IsInstall: true, Revision: 1,
	}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	rendered, err := engine.Render(ch, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", name, err)
	}
	var objs []*unstructured.Unstructured
	for _, crd := range ch.CRDObjects() {
		o, err := decode(crd.Filename, crd.File.Data)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o...)
	}
	for file, text := range rendered {
		if path.Ext(file) != ".yaml" && path.Ext(file) != ".yml" {
			continue // NOTES.txt, helpers
		}
		o, err := decode(file, []byte(text))
		if err != nil {
			return nil, err
		}
		objs = append(objs, o...)
	}
	Sort(objs)
	return objs, nil
}

// decode splits a multi-document YAML file into objects, skipping empty documents.
func decode(file string, data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", file, err)
		}
		if s := strings.TrimSpace(string(js)); s == "null" || s == "{}" {
			continue
		}
		// The unstructured decoder keeps integers as int64, as the API machinery expects.
		obj, _, err := unstructured.UnstructuredJSONScheme.Decode(js, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", file, err)
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return nil, fmt.Errorf("decoding %s: a list is not supported", file)
		}
		out = append(out, u)
	}
}

// Sort orders objects deterministically: CRDs, Namespaces and cluster-scoped objects
// before namespaced ones, then by kind, namespace and name.
func Sort(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra < rb
		}
		if a.GetKind() != b.GetKind() {
			return a.GetKind() < b.GetKind()
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

func rank(o *unstructured.Unstructured) int {
	switch {
	case o.GetKind() == "CustomResourceDefinition":
		return 0
	case o.GetKind() == "Namespace":
		return 1
	case o.GetNamespace() == "":
		return 2
	default:
		return 3
	}
}
