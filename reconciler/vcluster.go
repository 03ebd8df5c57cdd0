package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/syncer"
)

// rolesFirst applies Roles in a stage before RoleBindings: without the bind verb, the API
// server lets the agent bind a Role only once it exists and holds no more than the agent does.
var rolesFirst = map[schema.GroupKind]struct{}{{Group: rbacv1.GroupName, Kind: "Role"}: {}}

// ErrDowngradeRefused is returned for a tenant whose kubernetesVersion is an older minor
// than the one its virtual cluster runs: the control plane's storage cannot go back.
var ErrDowngradeRefused = errors.New("kubernetes version downgrade refused")

// vclusterObjects renders the tenant's virtual cluster when the agent rolls them out.
func (a *Agent) vclusterObjects(t *v1alpha1.Tenant) ([]*unstructured.Unstructured, error) {
	if !a.opts.VirtualClusters {
		return nil, nil
	}
	return render.VCluster(t, a.opts.VCluster)
}

// refuseDowngrade fails a tenant asking for an older minor version than its virtual
// cluster runs (status.controlPlane.version).
// ErrStorageClassNotFound is returned when a tenant's data volume names a StorageClass the
// host lacks.
var ErrStorageClassNotFound = errors.New("storage class not found")

// refuseMissingStorageClass refuses, before anything is applied, a control plane whose data
// volume names a StorageClass the host lacks: its claim would stay Pending, and once the
// StatefulSet exists a fix in Git could not reach its immutable volumeClaimTemplates.
func (a *Agent) refuseMissingStorageClass(ctx context.Context, t *v1alpha1.Tenant) error {
	p := t.Spec.Persistence
	if !a.opts.VirtualClusters || p.StorageClassName == "" || p.Size == nil || p.Size.IsZero() {
		return nil
	}
	err := a.client.Get(ctx, client.ObjectKey{Name: p.StorageClassName}, &storagev1.StorageClass{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: spec.persistence.storageClassName %q: the host has no such StorageClass, so the virtual "+
			"cluster's data volume would never bind; nothing was applied: name an existing class, or leave it empty for the host's default",
			ErrStorageClassNotFound, p.StorageClassName)
	}
	if err != nil {
		return fmt.Errorf("reading StorageClass %q: %w", p.StorageClassName, err)
	}
	return nil
}

func (a *Agent) refuseDowngrade(t *v1alpha1.Tenant, st *v1alpha1.TenantStatus) error {
	if !a.opts.VirtualClusters || st.ControlPlane == nil || st.ControlPlane.Version == "" {
		return nil
	}
	want, err := render.ResolvedVersion(t)
	if err != nil {
		return nil // reported by rendering
	}
	if render.CompareMinor(want, st.ControlPlane.Version) < 0 {
		return fmt.Errorf("%w: kubernetesVersion %s is older than the %s the virtual cluster runs; "+
			"a control plane cannot be downgraded: restore a version >= %s, or recreate the tenant",
			ErrDowngradeRefused, want, st.ControlPlane.Version, st.ControlPlane.Version)
	}
	return nil
}

// pauseVCluster scales a paused tenant's virtual cluster to zero and deletes the
// workloads its syncer created in the host namespace. A tenant never rolled out is left alone.
func (a *Agent) pauseVCluster(ctx context.Context, t *v1alpha1.Tenant, st *v1alpha1.TenantStatus) error {
	if !a.opts.VirtualClusters {
		return nil
	}
	if st.ControlPlane != nil {
		st.ControlPlane.Ready = false
	}
	objs, err := render.VCluster(t, a.opts.VCluster)
	if err != nil {
		return err
	}
	sts := findKind(objs, "StatefulSet")
	if sts == nil {
		return errors.New("the vcluster chart rendered no StatefulSet")
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(sts.GroupVersionKind())
	get := func() error { return a.client.Get(ctx, client.ObjectKeyFromObject(sts), live) }
	if err := a.forbiddenAsMissing(ctx, sts.GetNamespace(), get); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("reading the virtual cluster: %w", err)
	}
	render.Label([]*unstructured.Unstructured{sts}, t.Name, t.Status.SourcePath, st.ContentRevision)
	if _, err := a.rm.Apply(ctx, sts, ssa.DefaultApplyOptions()); err != nil {
		return fmt.Errorf("scaling the virtual cluster to zero: %w", err)
	}
	return a.deleteSyncedPods(ctx, t.HostNamespace())
}

// deleteSyncedPods deletes the host pods the syncer created (label syncer.LabelManagedBy):
// with the virtual cluster down nothing would manage them. The syncer recreates them from
// the virtual cluster on resume.
func (a *Agent) deleteSyncedPods(ctx context.Context, ns string) error {
	pods := &corev1.PodList{}
	if err := a.client.List(ctx, pods, client.InNamespace(ns), client.HasLabels{syncer.LabelManagedBy}); err != nil {
		return fmt.Errorf("listing synced pods: %w", err)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		if err := a.client.Delete(ctx, p); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting synced pod %s: %w", p.Name, err)
		}
	}
	if len(pods.Items) > 0 {
		logr.FromContextOrDiscard(ctx).Info("paused: deleted synced pods", "namespace", ns, "pods", len(pods.Items))
	}
	return nil
}

// controlPlaneStatus reports the tenant's virtual cluster from its live StatefulSet
// (ready when kstatus calls it Current) and Service.
func (a *Agent) controlPlaneStatus(ctx context.Context, t *v1alpha1.Tenant) (*v1alpha1.ControlPlaneStatus, error) {
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
	res, err := a.liveStatus(ctx, sts)
	if err != nil {
		return nil, fmt.Errorf("the virtual cluster: %w", err)
	}
	cp.Ready = res.Status == status.CurrentStatus
	cp.ExternalEndpoint, err = a.externalEndpoint(ctx, t, key)
	return cp, err
}

// externalEndpoint is the URL from outside the host cluster: the Ingress host, or the
// LoadBalancer's address once it has one. NodePort has no single address to report.
func (a *Agent) externalEndpoint(ctx context.Context, t *v1alpha1.Tenant, key client.ObjectKey) (string, error) {
	switch t.Spec.Expose.Type {
	case "Ingress":
		return "https://" + t.Spec.Expose.Host, nil
	case "LoadBalancer":
		svc := &corev1.Service{}
		if err := a.client.Get(ctx, key, svc); err != nil {
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

// resumed reports whether the tenant was paused at the last reconcile.
func resumed(st *v1alpha1.TenantStatus) bool {
	ready := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	return ready != nil && ready.Reason == v1alpha1.ReasonPaused
}

func findKind(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

// reconcilePaused records a paused tenant: its virtual cluster is scaled to zero and
// nothing else is applied, pruned or corrected.
func (a *Agent) reconcilePaused(ctx context.Context, live *unstructured.Unstructured, t *v1alpha1.Tenant, old, st *v1alpha1.TenantStatus, rev string, res TenantResult) TenantResult {
	a.forget(t.Name)
	if err := a.pauseVCluster(ctx, t, st); err != nil {
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonApplyFailed, err, res)
	}
	apiPaused(st)
	res.Err = a.patchStatus(ctx, t.Name, old, st)
	return res
}

// controlPlaneOf is the tenant's status.controlPlane after a successful apply: prev when
// virtual clusters are off.
func (a *Agent) controlPlaneOf(ctx context.Context, t *v1alpha1.Tenant, prev *v1alpha1.ControlPlaneStatus) (*v1alpha1.ControlPlaneStatus, error) {
	if !a.opts.VirtualClusters {
		return prev, nil
	}
	return a.controlPlaneStatus(ctx, t)
}
