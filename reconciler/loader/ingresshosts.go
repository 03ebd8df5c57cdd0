package loader

import (
	"fmt"
	"k8s.io/apimachinery/pkg/util/validation"
	"strings"
)

// hostPatternProblem says what is wrong with an ingress host pattern: an exact DNS name
// or one leading wildcard label ("*.team-a.example.com"); "" when it is valid.
func hostPatternProblem(p string) string {
	if p == "*" {
		return "a bare \"*\" would claim every host"
	}
	host, wild := strings.CutPrefix(p, "*.")
	if strings.Contains(host, "*") {
		return "only one leading \"*.\" label may be a wildcard"
	}
	if msgs := validation.IsDNS1123Subdomain(host); len(msgs) > 0 {
		return strings.Join(msgs, "; ")
	}
	if wild && !strings.Contains(host, ".") {
		return "a wildcard may not claim a whole top-level domain"
	}
	return ""
}

// checkIngressHosts validates the tenant's spec.sync.ingressHosts patterns.
func checkIngressHosts(c *collector, hosts []string, base string) {
	for i, h := range hosts {
		if why := hostPatternProblem(h); why != "" {
			c.field(index(base, i), "invalid ingress host pattern %q: %s", truncate(h), why)
		}
	}
}

// checkIngressDomains requires every pattern to lie under one of defaults.yaml's
// spec.ingressDomains, when it lists any.
func checkIngressDomains(c *collector, hosts, domains []string) {
	if len(domains) == 0 {
		return
	}
	for i, h := range hosts {
		if hostPatternProblem(h) == "" && !underAny(h, domains) {
			c.field(index("spec.sync.ingressHosts", i), "%q is not under any of defaults.yaml spec.ingressDomains (%s)",
				h, strings.Join(domains, ", "))
		}
	}
}

func underAny(pattern string, domains []string) bool {
	host := strings.TrimPrefix(pattern, "*.")
	for _, d := range domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// validateIngressDomains checks defaults.yaml's spec.ingressDomains: plain DNS names.
func validateIngressDomains(c *collector, domains []string) {
	for i, d := range domains {
		checkMessages(c, index("spec.ingressDomains", i), "invalid ingress domain", d, validation.IsDNS1123Subdomain(d))
	}
}

// hostsOverlap reports whether two valid host patterns can claim a common host. A
// wildcard counts as claiming every name under its domain, at any depth.
func hostsOverlap(a, b string) bool {
	if a == b {
		return true
	}
	return covers(a, b) || covers(b, a)
}

// covers reports whether wildcard pattern w claims the names of pattern p.
func covers(w, p string) bool {
	domain, wild := strings.CutPrefix(w, "*.")
	return wild && strings.HasSuffix(strings.TrimPrefix(p, "*."), "."+domain)
}

// hostClaim is one host pattern a tenant file claims, and the field that claims it.
type hostClaim struct {
	pattern, field string
}

// hostClaims lists the valid host patterns of a tenant file: spec.sync.ingressHosts and
// spec.expose.host.
func hostClaims(p *parsedTenant) []hostClaim {
	s := &p.tenant.Spec
	var out []hostClaim
	add := func(pattern, field string) {
		if pattern != "" && hostPatternProblem(pattern) == "" && !p.c.isRejected(field) {
			out = append(out, hostClaim{pattern, field})
		}
	}
	for i, h := range s.Sync.IngressHosts {
		add(h, index("spec.sync.ingressHosts", i))
	}
	add(s.Expose.Host, "spec.expose.host")
	return out
}

// markHostConflicts fails every file claiming a host pattern that overlaps one another
// file claims, naming the other files.
func markHostConflicts(claims []claim) {
	for i, a := range claims {
		for _, h := range a.hosts {
			var others []string
			for j, b := range claims {
				if i == j || a.name == b.name {
					continue
				}
				if o := overlapping(h.pattern, b.hosts); o != "" {
					others = append(others, fmt.Sprintf("%q of %s", o, b.p.path))
				}
			}
			report(a, h.field, "host pattern %q overlaps %s", h.pattern, others)
		}
	}
}

// overlapping returns the first of hosts that overlaps pattern, or "".
func overlapping(pattern string, hosts []hostClaim) string {
	for _, h := range hosts {
		if hostsOverlap(pattern, h.pattern) {
			return h.pattern
		}
	}
	return ""
}
