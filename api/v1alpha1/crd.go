package v1alpha1

import _ "embed"

// CRD is the Tenant CustomResourceDefinition as YAML.
//
//go:embed crd.yaml
var CRD []byte
