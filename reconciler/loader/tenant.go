package loader

import (
	"path"
	"strings"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// tenantForbidden are Tenant fields a tenant file must not set.
var tenantForbidden = map[string]string{
	"status": "is written by the agent and cannot be set in a tenant file",
}

// parsedTenant is a tenant file after parsing: the tenant (possibly partial when there
// are errors, nil when nothing could be decoded), the line of each field and the errors.
type parsedTenant struct {
	path   string
	tenant *v1alpha1.Tenant
	c      *collector
}

// ParseTenant parses and validates one tenant file on its own, as written: no defaults
// are applied and kubernetesVersion is not resolved (Load does both). path is the
// file's path in the repo ("tenants/team-a.yaml"), used in messages and to check that
// the tenant's name matches the file name. It returns either the tenant or its errors.
func ParseTenant(path string, data []byte) (*v1alpha1.Tenant, FieldErrors) {
	p := parseTenant(path, data)
	if errs := p.c.result(); errs != nil {
		return nil, errs
	}
	return p.tenant, nil
}

func parseTenant(file string, data []byte) *parsedTenant {
	p := &parsedTenant{path: file, c: newCollector(file)}
	root := singleDocument(p.c, data, v1alpha1.Kind)
	if root == nil {
		return p
	}
	t := &v1alpha1.Tenant{}
	if !decodeInto(p.c, root, t, tenantForbidden) {
		return p
	}
	p.tenant = t
	validateTenant(p.c, t, file)
	return p
}

// fileStem returns a file's name without directory and extension.
func fileStem(file string) string {
	base := path.Base(strings.ReplaceAll(file, `\`, "/"))
	return strings.TrimSuffix(base, path.Ext(base))
}
