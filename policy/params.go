package policy

import (
	"encoding/json"
	"fmt"

	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// parametersPath is the root of every field path ValidateParameters reports.
var parametersPath = field.NewPath("parameters")

// ValidateParameters checks constraint parameters against the
// openAPIV3Schema a ConstraintTemplate declares under
// spec.crd.spec.validation, the way the API server and Gatekeeper validate
// spec.parameters of a constraint: types, formats, patterns, required
// fields, and fields the schema does not declare (unless the schema
// preserves unknown fields). Nil params are validated as an empty object,
// so required parameters are reported. The returned error wraps a
// k8s.io/apimachinery/pkg/util/errors.Aggregate of field errors such as
//
//	parameters.repos: Invalid value: "string": repos in body must be of type array: "string"
func ValidateParameters(template *unstructured.Unstructured, params map[string]any) error {
	ct, err := toVersionless(template)
	if err != nil {
		return err
	}
	kind := ct.Spec.CRD.Spec.Names.Kind

	data, err := normalizeParameters(params)
	if err != nil {
		return fmt.Errorf("%s parameters: %w", kind, err)
	}

	var errs field.ErrorList
	if v := ct.Spec.CRD.Spec.Validation; v == nil || v.OpenAPIV3Schema == nil {
		if len(data) > 0 {
			errs = append(errs, field.Forbidden(parametersPath, "template declares no parameters schema"))
		}
		return aggregateParameterErrors(kind, errs)
	}
	schema := ct.Spec.CRD.Spec.Validation.OpenAPIV3Schema

	validator, _, err := validation.NewSchemaValidator(schema)
	if err != nil {
		return fmt.Errorf("%s parameters schema: %w", kind, err)
	}
	errs = append(errs, validation.ValidateCustomResource(parametersPath, data, validator)...)

	structural, err := structuralschema.NewStructural(schema)
	if err != nil {
		return fmt.Errorf("%s parameters schema is not structural: %w", kind, err)
	}
	unknown := pruning.PruneWithOptions(data, structural, false, structuralschema.UnknownFieldPathOptions{
		TrackUnknownFieldPaths: true,
		ParentPath:             []string{parametersPath.String()},
	})
	for _, p := range unknown {
		errs = append(errs, field.Forbidden(field.NewPath(p), "unknown field: not declared in the template's parameters schema"))
	}
	return aggregateParameterErrors(kind, errs)
}

// normalizeParameters deep-copies params into JSON-shaped data (maps, slices,
// strings, bools, int64 and float64), as a decoded constraint would hold.
func normalizeParameters(params map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if params == nil {
		return out, nil
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	if err := utiljson.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	return out, nil
}

func aggregateParameterErrors(kind string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid %s parameters: %w", kind, errs.ToAggregate())
}
