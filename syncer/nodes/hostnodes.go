package nodes

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// RegisterReal adds the controller that mirrors the real host nodes matching
// spec.sync.nodes.nodeSelector (the host cache only holds those). It needs cluster-scoped
// read access to nodes on the host.
func RegisterReal(mgr manager.Manager, sc *synccontext.Context) error {
	r := &realReconciler{sc: sc}
	err := builder.ControllerManagedBy(mgr).Named(sc.VCluster+"-hostnodes").
		WatchesRawSource(source.Kind(sc.HostCache, &corev1.Node{}, &handler.TypedEnqueueRequestForObject[*corev1.Node]{})).
		Watches(&corev1.Node{}, &handler.EnqueueRequestForObject{}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("starting the host nodes syncer: %w", err)
	}
	return nil
}

type realReconciler struct{ sc *synccontext.Context }

func (r *realReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var host, virtual corev1.Node
	hostErr := r.sc.Host.Get(ctx, req.NamespacedName, &host)
	if client.IgnoreNotFound(hostErr) != nil {
		return reconcile.Result{}, fmt.Errorf("reading host node: %w", hostErr)
	}
	virtErr := r.sc.Virtual.Get(ctx, req.NamespacedName, &virtual)
	if client.IgnoreNotFound(virtErr) != nil {
		return reconcile.Result{}, fmt.Errorf("reading virtual node: %w", virtErr)
	}
	exists := virtErr == nil
	if exists && virtual.Labels[translate.LabelManagedBy] != r.sc.VCluster {
		return reconcile.Result{}, nil
	}
	switch {
	case apierrors.IsNotFound(hostErr) && exists:
		return reconcile.Result{}, client.IgnoreNotFound(r.sc.Virtual.Delete(ctx, &virtual))
	case apierrors.IsNotFound(hostErr):
		return reconcile.Result{}, nil
	}
	want := RealToVirtual(&host, r.sc.VCluster, r.sc.KubeletPort)
	if !exists {
		if err := r.sc.Virtual.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
			return reconcile.Result{}, fmt.Errorf("creating virtual node %s: %w", want.Name, err)
		}
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, r.update(ctx, want, &virtual)
}

func (r *realReconciler) update(ctx context.Context, want, virtual *corev1.Node) error {
	if !maps.Equal(want.Labels, virtual.Labels) || !equality.Semantic.DeepEqual(want.Spec.Taints, virtual.Spec.Taints) {
		virtual.Labels, virtual.Spec.Taints = want.Labels, want.Spec.Taints
		if err := r.sc.Virtual.Update(ctx, virtual); err != nil {
			return fmt.Errorf("updating virtual node %s: %w", virtual.Name, err)
		}
	}
	if equality.Semantic.DeepEqual(want.Status, virtual.Status) {
		return nil
	}
	virtual.Status = want.Status
	if err := r.sc.Virtual.Status().Update(ctx, virtual); err != nil {
		return fmt.Errorf("updating virtual node %s status: %w", virtual.Name, err)
	}
	return nil
}

// RealToVirtual is the virtual copy of a real host node: labels, taints and status, its
// kubelet being the syncer's kubelet API on kubeletPort.
func RealToVirtual(h *corev1.Node, vcluster string, kubeletPort int) *corev1.Node {
	v := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: h.Name, Labels: maps.Clone(h.Labels)}}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	v.Labels[translate.LabelManagedBy] = vcluster
	v.Spec.Taints = h.Spec.Taints
	v.Status = *h.Status.DeepCopy()
	PointAtSyncer(&v.Status, kubeletPort)
	v.Status.Images, v.Status.VolumesInUse, v.Status.VolumesAttached = nil, nil, nil
	return v
}
