package controlplane

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/internal/supervise"
)

// apiServerGOGC is kube-apiserver's GOGC. Idle, a Go heap holds up to (1 + GOGC/100) times
// its live size, and kube-apiserver's live heap after start (its OpenAPI, discovery and
// watch caches) is about 85 MiB: at the default 100 it sat at 186 MiB of the pod's 252, at
// 25 at 132, at 15 at 124 (bench/README.md). A tenant's API server is small and mostly
// idle, and host memory is what limits how many fit on a host; the price is more
// collections under load.
const apiServerGOGC = 15

// helperGOGC is kine's and kube-controller-manager's GOGC: 25 keeps about 5 MiB of the
// two idle heaps' garbage off the pod's memory (bench/README.md), for the same price.
const helperGOGC = 25

// apiServerSpec runs kube-apiserver over kine with the PKI's certificates. advertise is the
// pod IP, or loopback outside a pod.
func (c *Config) apiServerSpec(p *PKI, kinePort int, advertise string) supervise.Spec {
	return supervise.Spec{
		Name: "kube-apiserver",
		Path: filepath.Join(c.BinDir, "kube-apiserver"),
		Env:  []string{"GOGC=" + itoa(apiServerGOGC)},
		Args: []string{
			// Objects are stored as protobuf, kube-apiserver's default; JSON cost the storage
			// decode several times the CPU under a pod load. Data an earlier release stored
			// as JSON is still read, and rewritten as protobuf when next written.
			"--etcd-servers=http://127.0.0.1:" + itoa(kinePort),
			"--secure-port=" + itoa(c.APIPort), "--bind-address=0.0.0.0", "--advertise-address=" + advertise,
			"--cert-dir=" + p.Path("apiserver-certs"),
			"--tls-cert-file=" + p.Path("apiserver.crt"), "--tls-private-key-file=" + p.Path("apiserver.key"),
			"--client-ca-file=" + p.Path("ca.crt"), "--authorization-mode=Node,RBAC",
			"--service-account-issuer=https://kubernetes.default.svc." + ClusterDomain,
			"--service-account-key-file=" + p.Path("sa.pub"), "--service-account-signing-key-file=" + p.Path("sa.key"),
			// A token requested for the legacy 3607 s lives 3607 s, not a year.
			"--service-account-extend-token-expiration=false",
			"--service-cluster-ip-range=" + c.ServiceCIDR, "--allow-privileged=true",
			"--kubelet-preferred-address-types=InternalIP", "--profiling=false",
			// Virtual nodes point at the syncer's kubelet API (pod logs); both ends use the CA.
			"--kubelet-client-certificate=" + p.Path("kubelet-client.crt"),
			"--kubelet-client-key=" + p.Path("kubelet-client.key"),
			"--kubelet-certificate-authority=" + p.Path("ca.crt"),
			// 1.37 refuses a loopback advertise address with the lease endpoint reconciler, and
			// the host Service, not the virtual kubernetes Endpoints, routes to this server.
			"--endpoint-reconciler-type=none",
			"--requestheader-client-ca-file=" + p.Path("front-proxy-ca.crt"),
			"--requestheader-allowed-names=" + frontProxyClientUser,
			"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
			"--proxy-client-cert-file=" + p.Path("front-proxy-client.crt"),
			"--proxy-client-key-file=" + p.Path("front-proxy-client.key"),
			// Aggregated APIs (the syncer's metrics.k8s.io) are dialled at their Endpoints' IP:
			// virtual ClusterIPs route nowhere inside this pod.
			"--enable-aggregator-routing=true",
		},
	}
}

// localConfig is an admin client config for the virtual API server on loopback.
func (c *Config) localConfig(p *PKI) *rest.Config {
	return &rest.Config{
		Host: "https://127.0.0.1:" + itoa(c.APIPort),
		TLSClientConfig: rest.TLSClientConfig{
			CAData: p.CAPEM, CertData: p.Admin.CertPEM, KeyData: p.Admin.KeyPEM,
		},
		QPS: 100, Burst: 200,
	}
}

// apiReady returns nil when the virtual API server's /readyz answers ok.
func apiReady(ctx context.Context, cs kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("virtual API /readyz: %w: %s", err, strings.TrimSpace(string(body)))
	}
	return nil
}

// waitAPIReady polls /readyz until it answers or ctx ends.
func waitAPIReady(ctx context.Context, cs kubernetes.Interface) error {
	return poll(ctx, 100*time.Millisecond, "the virtual API server", func() error { return apiReady(ctx, cs) })
}
