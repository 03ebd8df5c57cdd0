package validate

import (
	"fmt"
	"strconv"

	"github.com/tenantry/tenantry/reconciler/loader"
)

// checkAdoptions checks defaults.yaml's spec.namespaceAdoptions against the tenant files:
// an entry naming a tenant with no file is an error (a later file of that name would
// take the namespace over unreviewed), one naming a tenant that lives elsewhere a warning.
func (r *Report) checkAdoptions() {
	d := r.ctx.repo.Defaults
	if d == nil {
		return
	}
	namespaces := map[string]string{} // tenant -> host namespace, "" for an invalid file
	for _, f := range r.ctx.repo.Failed {
		namespaces[f.Name] = ""
	}
	for _, t := range r.ctx.repo.Tenants {
		namespaces[t.Name] = t.HostNamespace()
	}
	for i, a := range d.Spec.NamespaceAdoptions {
		ns, known := namespaces[a.Tenant]
		f := Finding{File: loader.DefaultsFile, Field: fmt.Sprintf("spec.namespaceAdoptions[%d].tenant", i), Tenant: a.Tenant,
			Line: lineOf(r.ctx.dir, loader.DefaultsFile, "spec", "namespaceAdoptions", strconv.Itoa(i), "tenant")}
		switch {
		case !known:
			f.Severity = SeverityError
			f.Message = fmt.Sprintf("no tenant file %s/%s.yaml: an adoption must name an existing tenant", loader.TenantsDir, a.Tenant)
		case ns != "" && ns != a.Namespace:
			f.Severity = SeverityWarning
			f.Message = fmt.Sprintf("tenant %s's host namespace is %q, not %q: this adoption is unused", a.Tenant, ns, a.Namespace)
		default:
			continue
		}
		r.add(f)
	}
}
