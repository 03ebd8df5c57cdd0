package cli

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/reconciler/render"
)

// outsideKubeconfig is the kubeconfig for use from outside the host: the Secret's `config`
// with its server set to the external endpoint when the tenant is exposed, else its
// `config-local`, whose loopback server needs a port-forward (needsForward).
func outsideKubeconfig(t *v1alpha1.Tenant, data map[string][]byte) (kc []byte, needsForward bool, err error) {
	external := ""
	if t.Status.ControlPlane != nil {
		external = t.Status.ControlPlane.ExternalEndpoint
	}
	if external == "" {
		kc, err = localKubeconfig(t, data)
		return kc, true, err
	}
	cfg, err := secretKey(t, data, wellknown.SecretKeyConfig)
	if err != nil {
		return nil, false, err
	}
	kc, err = setServer(cfg, external, externalServerName(t, external))
	if err != nil {
		return nil, false, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	return kc, false, nil
}

// externalServerName is the TLS server name to verify the external endpoint with: none
// when its host is spec.expose.host (a SAN of the serving certificate), else the host
// Service's DNS name, which is always one (a LoadBalancer's address is not).
func externalServerName(t *v1alpha1.Tenant, external string) string {
	if u, err := url.Parse(external); err == nil && t.Spec.Expose.Host != "" && u.Hostname() == t.Spec.Expose.Host {
		return ""
	}
	in, err := url.Parse(render.VClusterEndpoint(t))
	if err != nil {
		return ""
	}
	return in.Hostname()
}

// currentCluster is the cluster of the kubeconfig's current context.
func currentCluster(kc *clientcmdapi.Config) (*clientcmdapi.Cluster, error) {
	ctx, ok := kc.Contexts[kc.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("kubeconfig has no current context %q", kc.CurrentContext)
	}
	cluster, ok := kc.Clusters[ctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("kubeconfig has no cluster %q", ctx.Cluster)
	}
	return cluster, nil
}

// setServer rewrites the current cluster's server (and TLS server name, when not empty).
func setServer(raw []byte, server, tlsServerName string) ([]byte, error) {
	kc, err := clientcmd.Load(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing kubeconfig: %w", err)
	}
	cluster, err := currentCluster(kc)
	if err != nil {
		return nil, err
	}
	cluster.Server, cluster.TLSServerName = server, tlsServerName
	out, err := clientcmd.Write(*kc)
	if err != nil {
		return nil, fmt.Errorf("writing kubeconfig: %w", err)
	}
	return out, nil
}

// serverPort is the port of the current cluster's server URL (443 for https without one).
func serverPort(raw []byte) (int, error) {
	kc, err := clientcmd.Load(raw)
	if err != nil {
		return 0, fmt.Errorf("parsing kubeconfig: %w", err)
	}
	cluster, err := currentCluster(kc)
	if err != nil {
		return 0, err
	}
	u, err := url.Parse(cluster.Server)
	if err != nil || u.Host == "" {
		return 0, fmt.Errorf("kubeconfig server %q is not a URL", cluster.Server)
	}
	if u.Port() == "" {
		return 443, nil
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("kubeconfig server %q has no valid port", cluster.Server)
	}
	return port, nil
}

// forwardedServer is the server URL of a port-forward listening on address:port, and the
// TLS server name to verify it with. The serving certificate covers 127.0.0.1, so another
// listen address is verified as 127.0.0.1.
func forwardedServer(address string, port int) (server, tlsServerName string) {
	host := address
	if ip := net.ParseIP(address); address == "" || address == "localhost" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	if host != "127.0.0.1" {
		tlsServerName = "127.0.0.1"
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port)), tlsServerName
}

// writePrivateFile replaces path with data, readable by its owner only (mode 0600), through
// a temporary file renamed over it: a reader never sees half a kubeconfig.
func writePrivateFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kubeconfig-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
