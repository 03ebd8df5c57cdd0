package loader

import (
	"path"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// privilege is one thing a tenant file may ask for only when defaults.yaml grants it.
type privilege struct {
	field   string // in the tenant file
	grant   string // in a spec.tenantExceptions entry
	asked   func(s *v1alpha1.TenantSpec) bool
	granted func(e v1alpha1.TenantException) bool
}

var privileges = []privilege{
	{"spec.pods.allowHostPath", "allowHostPath",
		func(s *v1alpha1.TenantSpec) bool { return s.Pods.AllowHostPath },
		func(e v1alpha1.TenantException) bool { return e.AllowHostPath }},
	{"spec.pods.allowHostNetwork", "allowHostNetwork",
		func(s *v1alpha1.TenantSpec) bool { return s.Pods.AllowHostNetwork },
		func(e v1alpha1.TenantException) bool { return e.AllowHostNetwork }},
	{"spec.pods.allowHostPID", "allowHostPID",
		func(s *v1alpha1.TenantSpec) bool { return s.Pods.AllowHostPID },
		func(e v1alpha1.TenantException) bool { return e.AllowHostPID }},
	{"spec.pods.allowPrivileged", "allowPrivileged",
		func(s *v1alpha1.TenantSpec) bool { return s.Pods.AllowPrivileged },
		func(e v1alpha1.TenantException) bool { return e.AllowPrivileged }},
	{"spec.pods.tolerations", "allowTolerations",
		func(s *v1alpha1.TenantSpec) bool { return len(s.Pods.Tolerations) > 0 },
		func(e v1alpha1.TenantException) bool { return e.AllowTolerations }},
	{"spec.network.isolation", "allowIsolationNone",
		func(s *v1alpha1.TenantSpec) bool { return s.Network.Isolation == v1alpha1.IsolationNone },
		func(e v1alpha1.TenantException) bool { return e.AllowIsolationNone }},
}

// checkPrivileges refuses each privilege the tenant file s (as written, before defaults)
// asks for that no spec.tenantExceptions entry of d (which may be nil) grants to tenant.
func checkPrivileges(c *collector, tenant string, s *v1alpha1.TenantSpec, d *v1alpha1.TenantDefaults) {
	for _, p := range privileges {
		if p.asked(s) && !granted(d, tenant, p) {
			c.field(p.field, "a tenant file cannot grant itself this: the platform team must grant it in defaults.yaml "+
				"spec.tenantExceptions (tenants: [%s], %s: true)", tenant, p.grant)
		}
	}
}

func granted(d *v1alpha1.TenantDefaults, tenant string, p privilege) bool {
	if d == nil {
		return false
	}
	for _, e := range d.Spec.TenantExceptions {
		if p.granted(e) && matchesAny(e.Tenants, tenant) {
			return true
		}
	}
	return false
}

// matchesAny reports whether name matches one of the globs (path.Match syntax).
func matchesAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, err := path.Match(g, name); err == nil && ok {
			return true
		}
	}
	return false
}

// validateExceptions checks defaults.yaml's spec.tenantExceptions.
func validateExceptions(c *collector, d *v1alpha1.TenantDefaults) {
	for i, e := range d.Spec.TenantExceptions {
		base := index("spec.tenantExceptions", i)
		if len(e.Tenants) == 0 {
			c.field(child(base, "tenants"), "required: the tenant names (or globs) the exception is for")
		}
		for j, g := range e.Tenants {
			if _, err := path.Match(g, ""); err != nil || g == "" {
				c.field(index(child(base, "tenants"), j), "invalid tenant name or glob %q", truncate(g))
			}
		}
	}
}
