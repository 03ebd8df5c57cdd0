// Package storageclasses copies the host's StorageClasses into the virtual cluster.
package storageclasses

import (
	"context"
	"fmt"
	"maps"
	"time"

	storagev1 "k8s.io/api/storage/v1"
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

// Register adds the controller that mirrors host StorageClasses (FromHost only). It
// needs cluster-scoped read access to storageclasses on the host.
func Register(mgr manager.Manager, sc *synccontext.Context) error {
	r := &reconciler{sc: sc}
	err := builder.ControllerManagedBy(mgr).Named(sc.VCluster+"-storageclasses").
		WatchesRawSource(source.Kind(sc.HostCache, &storagev1.StorageClass{}, &handler.TypedEnqueueRequestForObject[*storagev1.StorageClass]{})).
		Watches(&storagev1.StorageClass{}, &handler.EnqueueRequestForObject{}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("starting the storage class syncer: %w", err)
	}
	return nil
}

type reconciler struct{ sc *synccontext.Context }

func (r *reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var host, virtual storagev1.StorageClass
	hostErr := r.sc.Host.Get(ctx, req.NamespacedName, &host)
	if client.IgnoreNotFound(hostErr) != nil {
		return reconcile.Result{}, fmt.Errorf("reading host storage class: %w", hostErr)
	}
	virtErr := r.sc.Virtual.Get(ctx, req.NamespacedName, &virtual)
	if client.IgnoreNotFound(virtErr) != nil {
		return reconcile.Result{}, fmt.Errorf("reading virtual storage class: %w", virtErr)
	}
	exists := virtErr == nil
	if exists && virtual.Labels[translate.LabelManagedBy] != r.sc.VCluster {
		return reconcile.Result{}, nil // the tenant's own class
	}
	want := ToVirtual(&host, r.sc.VCluster)
	switch {
	case apierrors.IsNotFound(hostErr) && exists:
		return reconcile.Result{}, client.IgnoreNotFound(r.sc.Virtual.Delete(ctx, &virtual))
	case apierrors.IsNotFound(hostErr):
		return reconcile.Result{}, nil
	case !exists:
		return reconcile.Result{}, r.sc.Virtual.Create(ctx, want)
	case !sameImmutable(want, &virtual):
		return reconcile.Result{RequeueAfter: time.Second}, client.IgnoreNotFound(r.sc.Virtual.Delete(ctx, &virtual))
	case maps.Equal(want.Labels, virtual.Labels) && maps.Equal(want.Annotations, virtual.Annotations) &&
		equality.Semantic.DeepEqual(want.AllowVolumeExpansion, virtual.AllowVolumeExpansion):
		return reconcile.Result{}, nil
	}
	virtual.Labels, virtual.Annotations, virtual.AllowVolumeExpansion = want.Labels, want.Annotations, want.AllowVolumeExpansion
	return reconcile.Result{}, r.sc.Virtual.Update(ctx, &virtual)
}

// ToVirtual is the virtual copy of a host storage class, marked as managed.
func ToVirtual(h *storagev1.StorageClass, vcluster string) *storagev1.StorageClass {
	v := h.DeepCopy()
	v.ObjectMeta = metav1.ObjectMeta{Name: h.Name, Labels: maps.Clone(h.Labels), Annotations: maps.Clone(h.Annotations)}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	v.Labels[translate.LabelManagedBy] = vcluster
	delete(v.Annotations, "kubectl.kubernetes.io/last-applied-configuration")
	return v
}

func sameImmutable(a, b *storagev1.StorageClass) bool {
	return a.Provisioner == b.Provisioner && maps.Equal(a.Parameters, b.Parameters) &&
		equality.Semantic.DeepEqual(a.ReclaimPolicy, b.ReclaimPolicy) &&
		equality.Semantic.DeepEqual(a.VolumeBindingMode, b.VolumeBindingMode)
}
