package controlplane

import (
	"github.com/tenantry/tenantry/api/podtokens"
	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Config is the file the chart mounts at /etc/tenantry/vcluster.yaml (sigs.k8s.io/yaml).
// Zero values take the defaults listed on each field.
type Config struct {
	// Name is the vcluster's name: the tenant's name.
	Name string `json:"name"`
	// HostNamespace is the tenant's host namespace; default $POD_NAMESPACE.
	HostNamespace string `json:"hostNamespace,omitempty"`
	// DataDir holds certificates and the SQLite database; default /data.
	DataDir string `json:"dataDir,omitempty"`
	// BinDir holds kube-apiserver, kube-controller-manager and kine; default /usr/local/bin.
	BinDir string `json:"binDir,omitempty"`
	// APIPort is the virtual API server's port in the pod; default 6443.
	APIPort int `json:"apiPort,omitempty"`
	// DNSPort is the DNS server's port in the pod (UDP and TCP); default 1053.
	DNSPort int `json:"dnsPort,omitempty"`
	// ProbePort serves /readyz and /healthz; default 8080.
	ProbePort int `json:"probePort,omitempty"`
	// KubeletPort is the syncer's kubelet API (pod logs) on 127.0.0.1, which the virtual
	// nodes advertise; default 10350 (kubeletapi.DefaultPort).
	KubeletPort int `json:"kubeletPort,omitempty"`
	// ServiceCIDR is the host's service CIDR, used by the virtual API server too, so a
	// Service gets the same ClusterIP in both; default 10.96.0.0/12.
	ServiceCIDR string `json:"serviceCIDR,omitempty"`
	// ServiceName is the host Service in front of this pod (API on 443, DNS on 53).
	// Its DNS names go into the serving certificate's SANs.
	ServiceName string `json:"serviceName"`
	// ExternalHosts are extra SANs: the exposed host name or address.
	ExternalHosts []string `json:"externalHosts,omitempty"`
	// KubeconfigSecret is the host Secret (in HostNamespace) that receives an admin kubeconfig.
	KubeconfigSecret string `json:"kubeconfigSecret"`
	// Owners become cluster-admin in the virtual cluster.
	Owners []v1alpha1.Subject `json:"owners,omitempty"`
	// KinePort is kine's etcd API port on loopback; default wellknown.VClusterKinePort.
	KinePort int `json:"kinePort,omitempty"`
	// DatastoreType is SQLite (default: kine.db in DataDir), Postgres or MySQL.
	DatastoreType string `json:"datastoreType,omitempty"`
	// Datastore is the external datastore's connection string. It never comes from the
	// config file: LoadConfig takes it from the environment (DatastoreEnv, set from a
	// Secret) and removes it there, so only kine gets it.
	Datastore string `json:"-"`
	// DNSUpstream is the nameserver (host:port) that names outside the virtual cluster are
	// forwarded to; default the first nameserver of /etc/resolv.conf.
	DNSUpstream string `json:"dnsUpstream,omitempty"`
	// Pods and Sync come from the tenant file and configure the syncer.
	Pods v1alpha1.PodPolicy `json:"pods,omitempty"`
	Sync v1alpha1.Sync      `json:"sync,omitempty"`
	// Tokens is the lifetime (expirationSeconds, default 3600, 600 to 86400) and refresh
	// (refreshSeconds, default 80% of the lifetime) of pods' service account tokens. A
	// platform setting: no tenant input sets it.
	Tokens podtokens.Tokens `json:"tokens,omitempty"`
}
