package loader

import (
	"fmt"
	"slices"
	"strings"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// BuiltinProtectedNamespaces are the host namespaces no tenant may claim, whatever
// defaults.yaml says: exact names or prefix globs ("kube-*").
var BuiltinProtectedNamespaces = []string{"default", "kube-*", "tenantry-system", "gatekeeper-system"}

// ProtectedBy returns the pattern that protects namespace ns: a built-in one, one of
// extra (the agent adds its own namespace) or one of defaults.yaml's
// spec.protectedNamespaces (d may be nil); "" when ns is not protected.
func ProtectedBy(ns string, d *v1alpha1.TenantDefaults, extra ...string) string {
	all := append(append([]string{}, BuiltinProtectedNamespaces...), extra...)
	if d != nil {
		all = append(all, d.Spec.ProtectedNamespaces...)
	}
	for _, p := range all {
		if p != "" && matchNamespace(p, ns) {
			return p
		}
	}
	return ""
}

// matchNamespace matches an exact name or a prefix glob ending in "*".
func matchNamespace(pattern, ns string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(ns, prefix)
	}
	return pattern == ns
}

// checkProtected refuses a tenant whose host namespace is protected.
func checkProtected(c *collector, t *v1alpha1.Tenant, d *v1alpha1.TenantDefaults) {
	ns, field := t.HostNamespace(), "metadata.name"
	if t.Spec.Namespace != "" {
		field = "spec.namespace"
	}
	if p := ProtectedBy(ns, d); p != "" {
		c.field(field, "host namespace %q is protected (%s): a tenant may not claim it", ns, protectedWhy(p, d))
	}
}

func protectedWhy(pattern string, d *v1alpha1.TenantDefaults) string {
	switch {
	case slices.Contains(BuiltinProtectedNamespaces, pattern):
		return fmt.Sprintf("matches %q, reserved for the cluster and its platform components", pattern)
	case d != nil:
		return fmt.Sprintf("matches %q in defaults.yaml spec.protectedNamespaces", pattern)
	}
	return fmt.Sprintf("matches %q", pattern)
}

// validateNamespaceRules checks defaults.yaml's protectedNamespaces and namespaceAdoptions.
func validateNamespaceRules(c *collector, d *v1alpha1.TenantDefaults) {
	for i, p := range d.Spec.ProtectedNamespaces {
		field := index("spec.protectedNamespaces", i)
		name, glob := strings.CutSuffix(p, "*")
		if glob && name == "" {
			c.field(field, "\"*\" would protect every namespace and refuse every tenant")
			continue
		}
		if glob {
			name += "x" // a prefix glob: what precedes the "*" must start a valid name
		}
		checkMessages(c, field, "invalid namespace or prefix glob", p, validation.IsDNS1123Label(name))
	}
	adopted := map[string]string{}
	for i, a := range d.Spec.NamespaceAdoptions {
		base := index("spec.namespaceAdoptions", i)
		checkRequiredLabel(c, child(base, "namespace"), "namespace", a.Namespace)
		checkRequiredLabel(c, child(base, "tenant"), "tenant name", a.Tenant)
		if p := ProtectedBy(a.Namespace, d); a.Namespace != "" && p != "" {
			c.field(child(base, "namespace"), "namespace %q is protected (%s) and cannot be adopted", a.Namespace, protectedWhy(p, d))
		}
		if other, ok := adopted[a.Namespace]; ok && other != a.Tenant {
			c.field(child(base, "namespace"), "namespace %q is already given to tenant %q", a.Namespace, other)
		}
		adopted[a.Namespace] = a.Tenant
	}
}

func checkRequiredLabel(c *collector, field, what, v string) {
	if v == "" {
		c.field(field, "required")
		return
	}
	checkDNSLabel(c, field, what, v)
}
