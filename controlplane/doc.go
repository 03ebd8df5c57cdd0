// Package controlplane runs a tenant's virtual cluster in one pod: kine, kube-apiserver and
// kube-controller-manager as supervised child processes, and the syncer and DNS in-process.
//
// DNS is served by this process (github.com/miekg/dns, UDP and TCP on Config.DNSPort) rather
// than by a CoreDNS Deployment inside the virtual cluster: the image stays one binary plus
// the Kubernetes components, nothing has to be scheduled before names resolve, and the
// answers come straight from an informer cache of the virtual cluster. Host pods reach it
// through the host Service in front of the pod (port 53 → DNSPort), whose ClusterIP the
// syncer puts in their dnsConfig. It answers <svc>.<ns>.svc.cluster.local with the virtual
// Service's ClusterIP (the syncer gives the host Service the same one), headless Services
// with their ready EndpointSlice addresses, kubernetes.default.svc with the host Service's
// ClusterIP, and forwards every other name to the upstream nameserver of /etc/resolv.conf.
// Search paths are the client's job.
package controlplane
