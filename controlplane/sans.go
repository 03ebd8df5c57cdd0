package controlplane

import (
	"net"
	"slices"
)

// ServingSANs lists what the serving certificate covers: loopback, the pod IP, the host
// Service's DNS names and ClusterIP, the virtual kubernetes Service's names (pods of the
// virtual cluster reach the API server as kubernetes.default.svc) and ExternalHosts.
func (c *Config) ServingSANs(podIP, serviceIP string) SANs {
	ns := c.HostNamespace
	dns := []string{
		"localhost", c.ServiceName, c.ServiceName + "." + ns, c.ServiceName + "." + ns + ".svc",
		c.ServiceName + "." + ns + ".svc." + ClusterDomain,
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + ClusterDomain,
	}
	ips := []net.IP{net.ParseIP("127.0.0.1")}
	for _, s := range append([]string{podIP, serviceIP}, c.ExternalHosts...) {
		switch ip := net.ParseIP(s); {
		case s == "":
		case ip != nil:
			ips = append(ips, ip)
		default:
			dns = append(dns, s)
		}
	}
	slices.Sort(dns)
	return SANs{DNSNames: slices.Compact(dns), IPs: uniqueIPs(ips)}
}

func uniqueIPs(ips []net.IP) []net.IP {
	var out []net.IP
	for _, ip := range ips {
		if !slices.ContainsFunc(out, ip.Equal) {
			out = append(out, ip)
		}
	}
	return out
}
