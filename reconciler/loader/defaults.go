package loader

import (
	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

const notDefaultable = "cannot be defaulted: set it in each tenant file"

// defaultsForbidden are the TenantSpec fields that make no sense as platform defaults.
var defaultsForbidden = map[string]string{
	"spec.defaults.namespace":                   notDefaultable,
	"spec.defaults.owners":                      notDefaultable,
	"spec.defaults.network.allowFromNamespaces": notDefaultable,
	"spec.defaults.policies":                    "cannot be defaulted: use spec.requiredPolicies",
	"spec.defaults.sync":                        notDefaultable,
	"spec.defaults.expose.host":                 notDefaultable,
	"spec.defaults.expose.ingressClassName":     notDefaultable,
	"spec.defaults.paused":                      notDefaultable,
}

// ParseDefaults parses and validates a defaults.yaml; path is its path in the repo.
func ParseDefaults(path string, data []byte) (*v1alpha1.TenantDefaults, FieldErrors) {
	c := newCollector(path)
	root := singleDocument(c, data, v1alpha1.KindTenantDefaults)
	if root == nil {
		return nil, c.result()
	}
	d := &v1alpha1.TenantDefaults{}
	if decodeInto(c, root, d, defaultsForbidden) {
		validateDefaults(c, d)
	}
	if errs := c.result(); errs != nil {
		return nil, errs
	}
	return d, nil
}

func validateDefaults(c *collector, d *v1alpha1.TenantDefaults) {
	checkTypeMeta(c, d.TypeMeta, v1alpha1.KindTenantDefaults)
	checkMetadataMaps(c, d.ObjectMeta)
	validateDefaultable(c, &d.Spec.Defaults, "spec.defaults")
	checkMaxQuota(c, "spec.defaults.quota", d.Spec.Defaults.Quota, d.Spec.MaxQuota)
	checkPolicies(c, d.Spec.RequiredPolicies, "spec.requiredPolicies")
	validateNamespaceRules(c, d)
	validateExceptions(c, d)
	validateIngressDomains(c, d.Spec.IngressDomains)
	if n := d.Spec.MaxTenantDeletions; n != nil && *n < 0 {
		c.field("spec.maxTenantDeletions", "must not be negative, got %d", *n)
	}
}
