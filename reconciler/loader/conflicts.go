package loader

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// claim is what a tenant file claims in the host cluster: its name, host namespace and
// ingress host patterns.
type claim struct {
	p         *parsedTenant
	name      string
	namespace string
	// nsField is the field that sets the namespace.
	nsField string
	hosts   []hostClaim
}

// markConflicts fails every file whose tenant name, host namespace or ingress host
// patterns are also claimed by another file, naming the other files. Invalid files take part too (by file name, and
// by their namespace when it could be read), so that fixing one cannot silently take over a
// tenant or namespace from a file that loaded before.
func markConflicts(parsed []*parsedTenant) {
	claims := make([]claim, len(parsed))
	for i, p := range parsed {
		claims[i] = claimOf(p)
	}
	for i, a := range claims {
		var sameName, sameNS []string
		for j, b := range claims {
			switch {
			case i == j:
			case a.name == b.name:
				sameName = append(sameName, b.p.path)
			case a.namespace != "" && a.namespace == b.namespace:
				sameNS = append(sameNS, b.p.path)
			}
		}
		report(a, "metadata.name", "tenant name %q is also used by %s", a.name, sameName)
		report(a, a.nsField, "host namespace %q is also used by %s", a.namespace, sameNS)
	}
	markHostConflicts(claims)
}

func claimOf(p *parsedTenant) claim {
	c := claim{p: p, name: fileStem(p.path), nsField: "metadata.name"}
	if p.tenant == nil {
		return c // the namespace could not be read
	}
	c.hosts = hostClaims(p)
	c.namespace = "tenant-" + c.name
	if p.tenant.Spec.Namespace != "" {
		c.namespace, c.nsField = p.tenant.Spec.Namespace, "spec.namespace"
	}
	if len(validation.IsDNS1123Label(c.namespace)) > 0 || p.c.isRejected(c.nsField) {
		c.namespace = ""
	}
	return c
}

func report(a claim, field, format, value string, others []string) {
	if len(others) > 0 {
		a.p.c.at(a.p.c.lines.at(field), field, format, value, strings.Join(others, ", "))
	}
}
