package loader

import (
	"encoding/json"
	"reflect"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// checkRequiredPolicies refuses a tenant's policy entry that lists a template
// defaults.yaml requires with another enforcementAction or other parameters: the tenant
// could otherwise switch a required policy off (dryrun) or weaken it.
func checkRequiredPolicies(c *collector, policies, required []v1alpha1.Policy) {
	for i, p := range policies {
		for _, req := range required {
			if p.Template != req.Template {
				continue
			}
			base := index("spec.policies", i)
			if action(p) != action(req) {
				c.field(child(base, "enforcementAction"), "%s is required by defaults.yaml with enforcementAction %q; a tenant file "+
					"cannot change it (remove this entry: required policies are added to every tenant)", req.Template, action(req))
			}
			if !sameParameters(p.Parameters, req.Parameters) {
				c.field(child(base, "parameters"), "%s is required by defaults.yaml with other parameters; a tenant file "+
					"cannot change them (remove this entry: required policies are added to every tenant)", req.Template)
			}
		}
	}
}

func action(p v1alpha1.Policy) string {
	if p.EnforcementAction == "" {
		return "deny"
	}
	return p.EnforcementAction
}

// sameParameters compares parameters as JSON values; unset, null and {} are equal.
func sameParameters(a, b *apiextensionsv1.JSON) bool {
	return reflect.DeepEqual(jsonValue(a), jsonValue(b))
}

func jsonValue(j *apiextensionsv1.JSON) any {
	if j == nil || len(j.Raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(j.Raw, &v); err != nil {
		return string(j.Raw)
	}
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	return v
}
