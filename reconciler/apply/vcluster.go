package apply

import (
	"context"
	"fmt"

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
	cp.ExternalEndpoint, err = m.externalEndpoint(ctx, t, key)
	return cp, err
}

// externalEndpoint is the URL from outside the host cluster: the Ingress host, or the
// LoadBalancer's address once it has one. NodePort has no single address to report.
func (m *Manager) externalEndpoint(ctx context.Context, t *v1alpha1.Tenant, key client.ObjectKey) (string, error) {
	switch t.Spec.Expose.Type {
	case "Ingress":
		return "https://" + t.Spec.Expose.Host, nil
	case "LoadBalancer":
		svc := &corev1.Service{}
		if err := m.client.Get(ctx, key, svc); err != nil {
			return "", fmt.Errorf("reading the virtual cluster's Service: %w", err)
		}
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.Hostname != "" {
				return "https://" + in.Hostname, nil
			}
			if in.IP != "" {
				return "https://" + in.IP, nil
			}
		}
	}
	return "", nil
}
