package policy

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// templateFile is the name of the ConstraintTemplate in each library directory.
const templateFile = "template.yaml"

//go:embed templates
var library embed.FS

// Library returns tenantry's ConstraintTemplates, sorted by the constraint
// kind they define. Each call returns fresh copies.
func Library() ([]*unstructured.Unstructured, error) {
	paths, err := fs.Glob(library, "templates/*/"+templateFile)
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	out := make([]*unstructured.Unstructured, 0, len(paths))
	for _, p := range paths {
		u, err := readObject(library, p)
		if err != nil {
			return nil, err
		}
		gvk := u.GroupVersionKind()
		if gvk.Group != templatesGroup || gvk.Kind != "ConstraintTemplate" {
			return nil, fmt.Errorf("%s: %w: got %s", p, errNotTemplate, gvk)
		}
		if templateKind(u) == "" {
			return nil, fmt.Errorf("%s: spec.crd.spec.names.kind is empty", p)
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return templateKind(out[i]) < templateKind(out[j]) })
	return out, nil
}
