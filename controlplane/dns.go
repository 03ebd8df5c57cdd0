package controlplane

import (
	"net"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// dnsTTL is the TTL of the records the server answers itself, as CoreDNS's kubernetes plugin.
const dnsTTL = 5

// Records is what the DNS server reads about the virtual cluster: an informer cache in the
// control plane, a fake in tests.
type Records interface {
	// Service returns a virtual Service, or an error for which apierrors.IsNotFound holds.
	Service(namespace, name string) (*corev1.Service, error)
	// EndpointSlices returns the EndpointSlices of a virtual Service.
	EndpointSlices(namespace, service string) ([]*discoveryv1.EndpointSlice, error)
}

// Resolver answers the virtual cluster's names and forwards every other name upstream.
type Resolver struct {
	Records Records
	// ServiceHost answers kubernetes.default.svc: the host Service in front of the virtual API server.
	ServiceHost net.IP
	// Upstream is the nameserver (host:port) other names go to.
	Upstream string
}

// lookup is a local answer: found names, and whether the name is the virtual cluster's at all.
type lookup struct {
	local   bool // the name is in the virtual cluster's zone: answer it here
	exists  bool // the name exists (NXDOMAIN otherwise)
	ips     []net.IP
	cname   string
	failure bool // the cache could not answer: SERVFAIL
}

// resolve looks a question's name up in the virtual cluster.
func (r *Resolver) resolve(name string) lookup {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	zone := "svc." + ClusterDomain
	switch {
	case name == "kubernetes.default.svc" || name == "kubernetes.default."+zone:
		return lookup{local: true, exists: true, ips: []net.IP{r.ServiceHost}}
	case name == ClusterDomain || strings.HasSuffix(name, "."+ClusterDomain):
	default:
		return lookup{}
	}
	labels := strings.Split(strings.TrimSuffix(name, "."+zone), ".")
	if !strings.HasSuffix(name, "."+zone) || len(labels) < 2 || len(labels) > 3 {
		return lookup{local: true}
	}
	n := len(labels)
	svc, ns := labels[n-2], labels[n-1]
	hostname := ""
	if n == 3 {
		hostname = labels[0]
	}
	return r.service(ns, svc, hostname)
}

// service answers <svc>.<ns> (hostname empty) or <hostname>.<svc>.<ns>.
func (r *Resolver) service(ns, name, hostname string) lookup {
	svc, err := r.Records.Service(ns, name)
	switch {
	case apierrors.IsNotFound(err):
		return lookup{local: true}
	case err != nil:
		return lookup{local: true, failure: true}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		if hostname != "" {
			return lookup{local: true}
		}
		return lookup{local: true, exists: true, cname: dns.Fqdn(svc.Spec.ExternalName)}
	}
	if hostname == "" && svc.Spec.ClusterIP != corev1.ClusterIPNone && svc.Spec.ClusterIP != "" {
		return lookup{local: true, exists: true, ips: parseIPs(svc.Spec.ClusterIPs)}
	}
	ips, err := r.readyAddresses(ns, name, hostname)
	if err != nil {
		return lookup{local: true, failure: true}
	}
	return lookup{local: true, exists: hostname == "" || len(ips) > 0, ips: ips}
}

// readyAddresses lists the ready endpoint addresses of a headless Service, narrowed to one
// endpoint hostname when hostname is set.
func (r *Resolver) readyAddresses(ns, name, hostname string) ([]net.IP, error) {
	slices, err := r.Records.EndpointSlices(ns, name)
	if err != nil {
		return nil, err
	}
	var ips []net.IP
	for _, s := range slices {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			if hostname != "" && (ep.Hostname == nil || *ep.Hostname != hostname) {
				continue
			}
			ips = append(ips, parseIPs(ep.Addresses)...)
		}
	}
	return uniqueIPs(ips), nil
}

func parseIPs(addrs []string) []net.IP {
	var ips []net.IP
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil {
			ips = append(ips, ip)
		}
	}
	return ips
}
