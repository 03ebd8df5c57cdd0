package syncer

import (
	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/api/podtokens"
	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Config is what the syncer needs to run for one virtual cluster.
type Config struct {
	// Virtual is the virtual API server; Host is the host cluster, used only inside HostNamespace.
	Virtual, Host *rest.Config
	// Name is the vcluster's name (the tenant's name), the last part of host names.
	Name string
	// HostNamespace is the tenant's namespace on the host.
	HostNamespace string
	// Pods is what the tenant file allows and enforces on pods.
	Pods v1alpha1.PodPolicy
	// Sync chooses the optional kinds.
	Sync v1alpha1.Sync
	// ServiceHost and ServicePort are where host pods reach the virtual API server
	// (KUBERNETES_SERVICE_HOST and _PORT): the ClusterIP and port of the host Service in
	// front of the virtual control plane.
	ServiceHost string
	ServicePort int
	// DNSServer is the nameserver IP host pods use to resolve the virtual cluster's names.
	DNSServer string
	// VirtualCA is the virtual API server's CA bundle, given to pods with their token.
	VirtualCA []byte
	// KubeletPort is where the syncer's kubelet API (pod logs) listens on 127.0.0.1, which
	// every virtual node advertises to the virtual API server; default kubeletapi.DefaultPort.
	// Whoever runs the syncer serves it (see kubeletapi.Listen).
	KubeletPort int
	// Tokens is the lifetime and refresh of pods' service account tokens; zero values take
	// the defaults (1 hour, refreshed at 80%).
	Tokens podtokens.Tokens
	// DisableChecks is for tests of host-side guards only: the syncer then copies virtual
	// objects raw (names and references still translated), as it did before it built host
	// objects from allow-lists, so a test can show the host refuses on its own what the
	// syncer would have refused. Nothing sets it from controlplane.Config, the chart or any
	// tenant input.
	DisableChecks bool
}
