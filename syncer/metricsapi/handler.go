// Package metricsapi serves metrics.k8s.io to the virtual API server from the host's pod metrics in the tenant's namespace.
package metricsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/tenantry/tenantry/syncer/translate"
)

// Handler answers the virtual API server's proxied metrics.k8s.io/v1beta1 requests: the
// virtual API server has authenticated and authorized the tenant's user already, and
// Listen admits only its front-proxy client certificate. Pod metrics are the host's
// metrics of the syncer's host copies of the virtual pods (read in HostNamespace only);
// node metrics are sums of those (see snapshot.nodeMetrics).
type Handler struct {
	// Virtual reads the virtual pods and nodes; Host the host pods; HostMetrics the host's
	// metrics.k8s.io, all in HostNamespace.
	Virtual       kubernetes.Interface
	Host          kubernetes.Interface
	HostMetrics   metricsclient.Interface
	HostNamespace string
	VCluster      string
	Log           logr.Logger
}

const prefix = "/apis/" + metricsv1beta1.GroupName + "/v1beta1"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, apierrors.NewMethodNotSupported(schema.GroupResource{Group: metricsv1beta1.GroupName}, r.Method))
		return
	}
	switch p := strings.TrimSuffix(r.URL.Path, "/"); {
	case p == "/apis":
		writeJSON(w, http.StatusOK, groupList)
	case p == "/apis/"+metricsv1beta1.GroupName:
		writeJSON(w, http.StatusOK, group)
	case p == prefix:
		writeJSON(w, http.StatusOK, resources)
	case strings.HasPrefix(p, prefix+"/"):
		h.serveResource(w, r, strings.Split(strings.TrimPrefix(p, prefix+"/"), "/"))
	default:
		writeError(w, apierrors.NewNotFound(schema.GroupResource{}, p))
	}
}

// serveResource routes pods, namespaces/NS/pods[/NAME] and nodes[/NAME].
func (h *Handler) serveResource(w http.ResponseWriter, r *http.Request, parts []string) {
	q := r.URL.Query()
	opts := metav1.ListOptions{LabelSelector: q.Get("labelSelector"), FieldSelector: q.Get("fieldSelector")}
	var (
		out any
		err error
	)
	switch {
	case len(parts) == 1 && parts[0] == "pods":
		out, err = h.listPods(r.Context(), metav1.NamespaceAll, opts)
	case len(parts) == 3 && parts[0] == "namespaces" && parts[2] == "pods":
		out, err = h.listPods(r.Context(), parts[1], opts)
	case len(parts) == 4 && parts[0] == "namespaces" && parts[2] == "pods":
		out, err = h.getPod(r.Context(), parts[1], parts[3])
	case len(parts) == 1 && parts[0] == "nodes":
		out, err = h.listNodes(r.Context(), opts)
	case len(parts) == 2 && parts[0] == "nodes":
		out, err = h.getNode(r.Context(), parts[1])
	default:
		err = apierrors.NewNotFound(schema.GroupResource{Group: metricsv1beta1.GroupName}, strings.Join(parts, "/"))
	}
	if err != nil {
		h.Log.V(1).Info("metrics request failed", "path", r.URL.Path, "error", err.Error())
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) listPods(ctx context.Context, ns string, opts metav1.ListOptions) (*metricsv1beta1.PodMetricsList, error) {
	vpods, err := h.Virtual.CoreV1().Pods(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing virtual pods: %w", err)
	}
	s, err := h.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return s.podMetricsList(vpods.Items), nil
}

func (h *Handler) getPod(ctx context.Context, ns, name string) (*metricsv1beta1.PodMetrics, error) {
	vpod, err := h.Virtual.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading virtual pod: %w", err)
	}
	s, err := h.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if m := s.podMetrics(vpod); m != nil {
		return m, nil
	}
	return nil, apierrors.NewNotFound(metricsv1beta1.Resource("pods"), name)
}

func (h *Handler) listNodes(ctx context.Context, opts metav1.ListOptions) (*metricsv1beta1.NodeMetricsList, error) {
	nodes, err := h.Virtual.CoreV1().Nodes().List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("listing virtual nodes: %w", err)
	}
	return h.nodeMetrics(ctx, nodes.Items)
}

func (h *Handler) getNode(ctx context.Context, name string) (*metricsv1beta1.NodeMetrics, error) {
	node, err := h.Virtual.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading virtual node: %w", err)
	}
	list, err := h.nodeMetrics(ctx, []corev1.Node{*node})
	if err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, apierrors.NewNotFound(metricsv1beta1.Resource("nodes"), name)
	}
	return &list.Items[0], nil
}

func (h *Handler) nodeMetrics(ctx context.Context, nodes []corev1.Node) (*metricsv1beta1.NodeMetricsList, error) {
	vpods, err := h.Virtual.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing virtual pods: %w", err)
	}
	s, err := h.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return s.nodeMetrics(vpods.Items, nodes), nil
}

// snapshot reads, in HostNamespace only, the host pods this vcluster manages and their metrics.
func (h *Handler) snapshot(ctx context.Context) (*snapshot, error) {
	managed := labels.SelectorFromSet(labels.Set{translate.LabelManagedBy: h.VCluster}).String()
	pods, err := h.Host.CoreV1().Pods(h.HostNamespace).List(ctx, metav1.ListOptions{LabelSelector: managed})
	if err != nil {
		return nil, fmt.Errorf("listing host pods: %w", err)
	}
	metrics, err := h.HostMetrics.MetricsV1beta1().PodMetricses(h.HostNamespace).List(ctx, metav1.ListOptions{LabelSelector: managed})
	if err != nil {
		return nil, fmt.Errorf("reading the host's pod metrics: %w", err)
	}
	return newSnapshot(h.VCluster, pods.Items, metrics.Items), nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the error's Status: the virtual API's own (a pod not found) or
// a 500 whose message the tenant may read (it names no credentials).
func writeError(w http.ResponseWriter, err error) {
	status := apierrors.NewInternalError(err).ErrStatus
	var api apierrors.APIStatus
	if ok := asAPIStatus(err, &api); ok {
		status = api.Status()
	}
	status.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	writeJSON(w, int(status.Code), status)
}
