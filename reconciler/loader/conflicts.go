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
	// Indexed by name and namespace (in file order), not compared pairwise: thousands of
	// tenant files are parsed on every pass.
	byName, byNS := map[string][]int{}, map[string][]int{}
	for i, c := range claims {
		byName[c.name] = append(byName[c.name], i)
		if c.namespace != "" {
			byNS[c.namespace] = append(byNS[c.namespace], i)
		}
	}
	for i, a := range claims {
		var sameName, sameNS []string
		for _, j := range byName[a.name] {
			if j != i {
				sameName = append(sameName, claims[j].p.path)
			}
		}
		for _, j := range byNS[a.namespace] {
			if j != i && claims[j].name != a.name {
				sameNS = append(sameNS, claims[j].p.path)
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
