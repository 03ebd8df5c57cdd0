package apply

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/reconciler/render"
)

// PauseVCluster applies a paused tenant's StatefulSet (rendered at zero replicas) and
// deletes the workloads its syncer created in the host namespace. A virtual cluster never
// rolled out is left alone.
func (m *Manager) PauseVCluster(ctx context.Context, sts *unstructured.Unstructured, hostNamespace string) error {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(sts.GroupVersionKind())
	get := func() error { return m.client.Get(ctx, client.ObjectKeyFromObject(sts), live) }
	if err := m.forbiddenAsMissing(ctx, sts.GetNamespace(), get); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading the virtual cluster: %w", err)
	}
	if err := m.ApplyObject(ctx, sts); err != nil {
		return fmt.Errorf("scaling the virtual cluster to zero: %w", err)
	}
	return m.deleteSyncedPods(ctx, hostNamespace)
}

// deleteSyncedPods deletes the host pods the syncer created (label wellknown.VClusterLabelManagedBy):
// with the virtual cluster down nothing would manage them. The syncer recreates them from
// the virtual cluster on resume.
func (m *Manager) deleteSyncedPods(ctx context.Context, ns string) error {
	pods := &corev1.PodList{}
	if err := m.client.List(ctx, pods, client.InNamespace(ns), client.HasLabels{wellknown.VClusterLabelManagedBy}); err != nil {
		return fmt.Errorf("listing synced pods: %w", err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		if err := m.client.Delete(ctx, p); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting synced pod %s: %w", p.Name, err)
		}
	}
	if len(pods.Items) > 0 {
		logr.FromContextOrDiscard(ctx).Info("paused: deleted synced pods", "namespace", ns, "pods", len(pods.Items))
	}
	return nil
}

// ControlPlane reports the tenant's virtual cluster from its live StatefulSet (ready when
// kstatus calls it Current) and Service.
func (m *Manager) ControlPlane(ctx context.Context, t *v1alpha1.Tenant) (*v1alpha1.ControlPlaneStatus, error) {
	version, err := render.ResolvedVersion(t)
	if err != nil {
		return nil, err
	}
	cp := &v1alpha1.ControlPlaneStatus{Version: version, Endpoint: render.VClusterEndpoint(t), KubeconfigSecret: render.KubeconfigSecretName(t)}
	key := client.ObjectKey{Namespace: t.HostNamespace(), Name: render.VClusterName(t)}
	sts := &unstructured.Unstructured{}
	sts.SetAPIVersion("apps/v1")
	sts.SetKind("StatefulSet")
	sts.SetNamespace(key.Namespace)
	sts.SetName(key.Name)
	res, err := m.liveStatus(ctx, sts)
	if err != nil {
		return nil, fmt.Errorf("the virtual cluster: %w", err)
	}
	cp.Ready = res.Status == status.CurrentStatus
	cp.ExternalEndpoint, err = m.ExternalEndpoint(ctx, t)
	return cp, err
}

// ExternalEndpoint is the URL from outside the host cluster: the Ingress host; the
// LoadBalancer's address once it has one; for NodePort, spec.expose.host (or else the
// first Ready node's external, else internal, address) with the node port. Empty until
// known.
func (m *Manager) ExternalEndpoint(ctx context.Context, t *v1alpha1.Tenant) (string, error) {
	switch t.Spec.Expose.Type {
	case "Ingress":
		return "https://" + t.Spec.Expose.Host, nil
	case "LoadBalancer", "NodePort":
		svc := &corev1.Service{}
		key := client.ObjectKey{Namespace: t.HostNamespace(), Name: render.ExternalServiceName(t)}
		if err := m.client.Get(ctx, key, svc); err != nil {
			return "", fmt.Errorf("reading the virtual cluster's external Service: %w", err)
		}
		if t.Spec.Expose.Type == "LoadBalancer" {
			return loadBalancerURL(svc), nil
		}
		return m.nodePortURL(ctx, t, svc)
	}
	return "", nil
}

func loadBalancerURL(svc *corev1.Service) string {
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.Hostname != "" {
			return "https://" + in.Hostname
		}
		if in.IP != "" {
			return "https://" + net.JoinHostPort(in.IP, "443")
		}
	}
	return ""
}

func (m *Manager) nodePortURL(ctx context.Context, t *v1alpha1.Tenant, svc *corev1.Service) (string, error) {
	if len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].NodePort == 0 {
		return "", nil
	}
	port := strconv.Itoa(int(svc.Spec.Ports[0].NodePort))
	if t.Spec.Expose.Host != "" {
		return "https://" + net.JoinHostPort(t.Spec.Expose.Host, port), nil
	}
	nodes := &corev1.NodeList{}
	if err := m.client.List(ctx, nodes); err != nil {
		return "", fmt.Errorf("listing nodes for the node port's address: %w", err)
	}
	if addr := nodeAddress(nodes.Items); addr != "" {
		return "https://" + net.JoinHostPort(addr, port), nil
	}
	return "", nil
}

// nodeAddress is the external (else internal) IP of the first Ready node by name.
func nodeAddress(nodes []corev1.Node) string {
	slices.SortFunc(nodes, func(a, b corev1.Node) int { return strings.Compare(a.Name, b.Name) })
	for _, want := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
		for _, n := range nodes {
			if !nodeReady(n) {
				continue
			}
			for _, a := range n.Status.Addresses {
				if a.Type == want && a.Address != "" {
					return a.Address
				}
			}
		}
	}
	return ""
}

func nodeReady(n corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
