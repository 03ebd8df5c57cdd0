package nodes

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// gracePeriod keeps a new virtual node while the pod that needed it is being bound.
const gracePeriod = 5 * time.Second

// Register adds the controller that removes pseudo nodes no virtual pod runs on anymore.
func Register(mgr manager.Manager, sc *synccontext.Context) error {
	r := &reconciler{sc: sc}
	err := builder.ControllerManagedBy(mgr).Named(sc.VCluster+"-nodes").For(&corev1.Node{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podNode)).Complete(r)
	if err != nil {
		return fmt.Errorf("starting the nodes syncer: %w", err)
	}
	return nil
}

func podNode(_ context.Context, obj client.Object) []reconcile.Request {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: pod.Spec.NodeName}}}
}

type reconciler struct{ sc *synccontext.Context }

func (r *reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var node corev1.Node
	if err := r.sc.Virtual.Get(ctx, req.NamespacedName, &node); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if node.Labels[translate.LabelManagedBy] != r.sc.VCluster || r.sc.Sync.Nodes.Enabled {
		return reconcile.Result{}, nil
	}
	used, err := r.sc.AnyVirtualPod(ctx, client.MatchingFields{synccontext.IndexPodNodeName: node.Name})
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("listing pods on node %s: %w", node.Name, err)
	}
	if used {
		return reconcile.Result{}, nil
	}
	if age := time.Since(node.CreationTimestamp.Time); age < gracePeriod {
		return reconcile.Result{RequeueAfter: gracePeriod - age}, nil
	}
	if err := r.sc.Virtual.Delete(ctx, &node); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, fmt.Errorf("deleting unused virtual node %s: %w", node.Name, err)
	}
	return reconcile.Result{}, nil
}
