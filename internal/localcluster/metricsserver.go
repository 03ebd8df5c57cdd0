package localcluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/pki"
)

// metricsServerComponent is the host's metrics-server (sigs.k8s.io/metrics-server, built on
// request by `bash hack/components.sh metrics-server`).
const metricsServerComponent = "metrics-server"

// metricsServerPort is where metrics-server listens on the node's IP; kube-apiserver
// reaches it there through the host Service's Endpoints (--enable-aggregator-routing).
const metricsServerPort = 4443

// The host's metrics-server Service and the name its serving certificate is for.
const (
	metricsServerNamespace = "kube-system"
	metricsServerName      = "metrics-server"
	metricsServerDNS       = metricsServerName + "." + metricsServerNamespace + ".svc"
)

// ErrNoMetricsServer marks a node whose host runs without metrics-server because it is not
// built here (not because it failed).
var ErrNoMetricsServer = errors.New("the host runs no metrics-server")

// MetricsServerError is why the host has no metrics.k8s.io API, or nil.
func (c *Cluster) MetricsServerError() error {
	if c.node == nil {
		return fmt.Errorf("%w: the cluster has no node", ErrNoMetricsServer)
	}
	return c.node.metricsErr
}

// startMetricsServer runs metrics-server inside the node's namespace, scraping the real
// kubelet's /metrics/resource, and registers it as the host's v1beta1.metrics.k8s.io. A
// missing build or a failed start does not fail the node: it is recorded for
// MetricsServerError. The API answers once metrics-server has scraped twice (about 20 s).
func (n *node) startMetricsServer(ctx context.Context, c *Cluster) {
	bin, err := binary(metricsServerComponent, metricsServerComponent)
	if err != nil {
		n.metricsErr = fmt.Errorf("%w: %s not built (run `bash hack/components.sh %s`)", ErrNoMetricsServer, metricsServerComponent, metricsServerComponent)
		return
	}
	p, err := n.runMetricsServer(c, bin)
	if err != nil {
		n.metricsErr = err
		return
	}
	n.procs = append(n.procs, p)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitFor(wctx, p, "metrics-server listening", n.metricsServerListening); err != nil {
		n.metricsErr = err
		return
	}
	if err := c.registerMetricsServer(ctx, n.ns.nodeIP); err != nil {
		n.metricsErr = fmt.Errorf("registering metrics-server: %w", err)
	}
}

// runMetricsServer starts metrics-server with a serving certificate for its Service name and
// the host's front-proxy CA, so only kube-apiserver's proxied requests are admitted.
func (n *node) runMetricsServer(c *Cluster, bin string) (*process, error) {
	serving, err := issueServing(c.ca, metricsServerName, metricsServerDNS)
	if err != nil {
		return nil, err
	}
	if err := writePair(serving, c.path("metrics-server.crt"), c.path("metrics-server.key")); err != nil {
		return nil, err
	}
	// The test bed's own component: an admin identity spares its ClusterRoles.
	kubeconfig, err := c.kubeconfigFor("system:metrics-server", "metrics-server.kubeconfig", "system:masters")
	if err != nil {
		return nil, err
	}
	name, args := n.ns.exec(bin, "--kubeconfig="+kubeconfig, "--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig, "--bind-address="+n.ns.nodeIP,
		"--secure-port="+strconv.Itoa(metricsServerPort),
		"--tls-cert-file="+c.path("metrics-server.crt"), "--tls-private-key-file="+c.path("metrics-server.key"),
		"--requestheader-client-ca-file="+c.path("front-proxy-ca.crt"), "--requestheader-allowed-names="+frontProxyClientUser,
		// The kubelet serves a self-signed certificate and admits anyone (see kubeletConfig):
		// it is reachable only through the node's veth.
		"--kubelet-insecure-tls", "--kubelet-preferred-address-types=InternalIP", "--kubelet-use-node-status-port",
		"--metric-resolution=10s", "--kubelet-request-timeout=5s", "--v=1")
	return startProcess(metricsServerComponent, n.dir, name, args)
}

// metricsServerListening dials metrics-server's port inside the node's namespace.
func (n *node) metricsServerListening(ctx context.Context) error {
	conn, err := n.ns.dial(ctx, "tcp", net.JoinHostPort(n.ns.nodeIP, strconv.Itoa(metricsServerPort)))
	if err != nil {
		return err
	}
	return conn.Close()
}

// registerMetricsServer writes the Service, its Endpoints (the node's IP) and the APIService.
func (c *Cluster) registerMetricsServer(ctx context.Context, nodeIP string) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	meta := metav1.ObjectMeta{Name: metricsServerName, Namespace: metricsServerNamespace}
	svc := &corev1.Service{ObjectMeta: meta, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
		Name: "https", Port: 443, TargetPort: intstr.FromInt32(metricsServerPort), Protocol: corev1.ProtocolTCP}}}}
	if _, err := cs.CoreV1().Services(meta.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Service: %w", err)
	}
	ep := &corev1.Endpoints{ObjectMeta: meta, Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck // the aggregator reads Endpoints (mirrored to slices)
		Addresses: []corev1.EndpointAddress{{IP: nodeIP}},
		Ports:     []corev1.EndpointPort{{Name: "https", Port: metricsServerPort, Protocol: corev1.ProtocolTCP}},
	}}}
	if _, err := cs.CoreV1().Endpoints(meta.Namespace).Create(ctx, ep, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Endpoints: %w", err)
	}
	return c.applyMetricsAPIService(ctx)
}

func (c *Cluster) applyMetricsAPIService(ctx context.Context) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1beta1.metrics.k8s.io"},
		"spec": map[string]any{
			"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": int64(100), "versionPriority": int64(100),
			"service":  map[string]any{"namespace": metricsServerNamespace, "name": metricsServerName, "port": int64(443)},
			"caBundle": base64.StdEncoding.EncodeToString(c.ca.Pair.CertPEM),
		},
	}}
	gvr := schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
	_, err = dyn.Resource(gvr).Apply(ctx, "v1beta1.metrics.k8s.io", obj, metav1.ApplyOptions{FieldManager: "tenantry-test-bed", Force: true})
	return err
}

// frontProxyClientUser is kube-apiserver's client certificate to aggregated APIs.
const frontProxyClientUser = "front-proxy-client"

// writeFrontProxyPKI writes the front-proxy CA and kube-apiserver's client certificate from
// it, for the requestheader and proxy-client flags (aggregated APIs such as metrics-server).
func (c *Cluster) writeFrontProxyPKI() error {
	ca, err := newCA("tenantry-test-front-proxy-ca")
	if err != nil {
		return err
	}
	if err := writePair(ca.Pair, c.path("front-proxy-ca.crt"), c.path("front-proxy-ca.key")); err != nil {
		return err
	}
	client, err := ca.Issue(pki.Client(frontProxyClientUser), leafValidity)
	if err != nil {
		return err
	}
	return writePair(client, c.path("front-proxy-client.crt"), c.path("front-proxy-client.key"))
}

// aggregatorArgs are kube-apiserver's flags for aggregated APIs: it authenticates to them
// with the front-proxy client certificate and dials their Endpoints' IP (ClusterIPs route
// only inside the node's namespace).
func (c *Cluster) aggregatorArgs() []string {
	return []string{
		"--requestheader-client-ca-file=" + c.path("front-proxy-ca.crt"),
		"--requestheader-allowed-names=" + frontProxyClientUser,
		"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + c.path("front-proxy-client.crt"),
		"--proxy-client-key-file=" + c.path("front-proxy-client.key"),
		"--enable-aggregator-routing=true",
	}
}
