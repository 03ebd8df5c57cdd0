package controlplane

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/tenantry/tenantry/syncer/kubeletapi"
	"github.com/tenantry/tenantry/syncer/metricsapi"
)

// listenMetrics serves the syncer's metrics.k8s.io on podIP to the virtual API server's
// front-proxy client only, and registers it in the virtual cluster in the background. It is
// an add-on: outside a pod (no POD_IP: Endpoints refuse loopback) or when it cannot listen,
// the control plane runs without it and says so.
func listenMetrics(ctx context.Context, cfg Config, p *PKI, hostConfig *rest.Config, host, virtual kubernetes.Interface, podIP string) {
	log := logr.FromContextOrDiscard(ctx).WithName("metrics-api")
	if podIP == "" {
		log.Info("no POD_IP: not serving metrics.k8s.io")
		return
	}
	if err := serveMetrics(ctx, cfg, p, hostConfig, host, virtual, podIP); err != nil {
		log.Error(err, "not serving metrics.k8s.io")
		return
	}
	go func() {
		err := retry(ctx, "metrics APIService", func() error { return registerMetrics(ctx, cfg, p, virtual, podIP) })
		if err != nil && ctx.Err() == nil {
			log.Error(err, "metrics.k8s.io not registered")
		}
	}()
}

// serveMetrics listens on podIP:metricsapi.Port.
func serveMetrics(ctx context.Context, cfg Config, p *PKI, hostConfig *rest.Config, host, virtual kubernetes.Interface, podIP string) error {
	hostMetrics, err := metricsclient.NewForConfig(hostConfig)
	if err != nil {
		return fmt.Errorf("host metrics client: %w", err)
	}
	log := logr.FromContextOrDiscard(ctx).WithName("metrics-api")
	h := &metricsapi.Handler{Virtual: virtual, Host: host, HostMetrics: hostMetrics,
		HostNamespace: cfg.HostNamespace, VCluster: cfg.Name, Log: log}
	addr := net.JoinHostPort(podIP, itoa(metricsapi.Port))
	if err := kubeletapi.Listen(ctx, addr, metricsTLS(p), h); err != nil {
		return err
	}
	log.Info("serving metrics.k8s.io", "address", addr)
	return nil
}

// metricsTLS serves as metricsapi.ServerName and admits only the virtual API server's
// front-proxy client certificate: it carries the tenant's already authorized requests.
func metricsTLS(p *PKI) kubeletapi.TLS {
	return kubeletapi.TLS{CertPEM: p.MetricsServing.CertPEM, KeyPEM: p.MetricsServing.KeyPEM,
		ClientCAPEM: p.FrontProxyCAPEM, ClientName: frontProxyClientUser}
}

// registerMetrics writes the virtual Service, its Endpoints (the pod IP) and the APIService.
func registerMetrics(ctx context.Context, cfg Config, p *PKI, virtual kubernetes.Interface, podIP string) error {
	dyn, err := dynamic.NewForConfig(cfg.localConfig(p))
	if err != nil {
		return fmt.Errorf("virtual dynamic client: %w", err)
	}
	meta := metav1.ObjectMeta{Name: metricsapi.ServiceName, Namespace: metricsapi.ServiceNamespace,
		Labels: map[string]string{"app.kubernetes.io/managed-by": "tenantry"}}
	svc := &corev1.Service{ObjectMeta: meta, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
		Name: "https", Port: 443, TargetPort: intstr.FromInt32(metricsapi.Port), Protocol: corev1.ProtocolTCP}}}}
	if err := createOrKeep(ctx, virtual.CoreV1().Services(meta.Namespace).Create, svc); err != nil {
		return err
	}
	ep := &corev1.Endpoints{ObjectMeta: meta, Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck // the aggregator reads Endpoints (mirrored to slices)
		Addresses: []corev1.EndpointAddress{{IP: podIP}},
		Ports:     []corev1.EndpointPort{{Name: "https", Port: metricsapi.Port, Protocol: corev1.ProtocolTCP}},
	}}}
	if _, err := virtual.CoreV1().Endpoints(meta.Namespace).Update(ctx, ep, metav1.UpdateOptions{}); apierrors.IsNotFound(err) {
		_, err = virtual.CoreV1().Endpoints(meta.Namespace).Create(ctx, ep, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating Endpoints %s: %w", meta.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("updating Endpoints %s: %w", meta.Name, err)
	}
	return applyAPIService(ctx, dyn, p.CAPEM)
}

var apiServices = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// applyAPIService server-side applies the APIService v1beta1.metrics.k8s.io (an
// unstructured object: its typed client is a large module for one object).
func applyAPIService(ctx context.Context, dyn dynamic.Interface, caPEM []byte) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": metricsapi.APIServiceName},
		"spec": map[string]any{
			"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": int64(100), "versionPriority": int64(100),
			"service":  map[string]any{"namespace": metricsapi.ServiceNamespace, "name": metricsapi.ServiceName, "port": int64(443)},
			"caBundle": base64.StdEncoding.EncodeToString(caPEM),
		},
	}}
	if _, err := dyn.Resource(apiServices).Apply(ctx, metricsapi.APIServiceName, obj,
		metav1.ApplyOptions{FieldManager: "tenantry-controlplane", Force: true}); err != nil {
		return fmt.Errorf("applying APIService %s: %w", metricsapi.APIServiceName, err)
	}
	return nil
}

// createOrKeep creates obj, keeping an existing one.
func createOrKeep[T any](ctx context.Context, create func(context.Context, T, metav1.CreateOptions) (T, error), obj T) error {
	if _, err := create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %T: %w", obj, err)
	}
	return nil
}
