package policy

import (
	"fmt"

	templatesv1 "github.com/open-policy-agent/frameworks/constraint/pkg/apis/templates/v1"
	templatesv1alpha1 "github.com/open-policy-agent/frameworks/constraint/pkg/apis/templates/v1alpha1"
	templatesv1beta1 "github.com/open-policy-agent/frameworks/constraint/pkg/apis/templates/v1beta1"
	"github.com/open-policy-agent/frameworks/constraint/pkg/core/templates"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/json"
)

const templatesGroup = "templates.gatekeeper.sh"

// versionless is implemented by every versioned ConstraintTemplate type.
type versionless interface {
	ToVersionless() (*templates.ConstraintTemplate, error)
}

// toVersionless converts a ConstraintTemplate of any served version into the
// version-independent form the constraint framework works with. Versioned
// defaults (e.g. legacySchema) are applied on the way.
func toVersionless(u *unstructured.Unstructured) (*templates.ConstraintTemplate, error) {
	if u == nil {
		return nil, fmt.Errorf("%w: nil object", errNotTemplate)
	}
	gvk := u.GroupVersionKind()
	if gvk.Group != templatesGroup || gvk.Kind != "ConstraintTemplate" {
		return nil, fmt.Errorf("%w: got %s", errNotTemplate, gvk)
	}

	var versioned versionless
	switch gvk.Version {
	case templatesv1.SchemeGroupVersion.Version:
		versioned = &templatesv1.ConstraintTemplate{}
	case templatesv1beta1.SchemeGroupVersion.Version:
		versioned = &templatesv1beta1.ConstraintTemplate{}
	case templatesv1alpha1.SchemeGroupVersion.Version:
		versioned = &templatesv1alpha1.ConstraintTemplate{}
	default:
		return nil, fmt.Errorf("%w: unsupported version %q", errNotTemplate, gvk.Version)
	}

	// Go through JSON: the template types carry custom JSON (un)marshalers.
	data, err := u.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encoding ConstraintTemplate %q: %w", u.GetName(), err)
	}
	if err := json.Unmarshal(data, versioned); err != nil {
		return nil, fmt.Errorf("decoding ConstraintTemplate %q: %w", u.GetName(), err)
	}
	ct, err := versioned.ToVersionless()
	if err != nil {
		return nil, fmt.Errorf("converting ConstraintTemplate %q: %w", u.GetName(), err)
	}
	return ct, nil
}

// templateKind returns the constraint kind a ConstraintTemplate defines.
func templateKind(u *unstructured.Unstructured) string {
	kind, _, _ := unstructured.NestedString(u.Object, "spec", "crd", "spec", "names", "kind")
	return kind
}
