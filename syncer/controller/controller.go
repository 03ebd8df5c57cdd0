// Package controller runs one types.Syncer as a controller-runtime controller over both clusters.
package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
	"github.com/tenantry/tenantry/syncer/types"
)

// Workers is how many objects of one kind are synced at once (the work queue never hands
// the same object to two workers). A pod's sync waits on three round trips (the host pod,
// the virtual token, the host token Secret): with 4 workers the syncer bench's 1,000 pods
// were held to about 55 a second at any host rate; with 16, the host rate limit and the
// API servers' CPU set the pace.
const Workers = 16

// Register adds a controller for s to mgr: virtual objects of the kind and managed host
// objects (from hostCache) both enqueue the virtual key. Because both informers list
// everything when they start, start-up is a full resync: host objects whose virtual origin
// is gone are deleted, existing ones are found by their deterministic name.
func Register(mgr manager.Manager, hostCache cache.Cache, sc *synccontext.Context, s types.ToHost) error {
	ctx := context.Background()
	if idx, ok := s.(types.Indexer); ok {
		if err := idx.Index(ctx, mgr.GetFieldIndexer()); err != nil {
			return fmt.Errorf("indexing %s: %w", s.Kind(), err)
		}
	}
	if idx, ok := s.(types.HostIndexer); ok {
		if err := idx.IndexHost(ctx, hostCache); err != nil {
			return fmt.Errorf("indexing host objects for %s: %w", s.Kind(), err)
		}
	}
	r := &reconciler{sc: sc, s: s}
	b := builder.ControllerManagedBy(mgr).Named(sc.VCluster + "-" + s.Kind()).For(s.New()).
		WithOptions(ctrlcontroller.Options{MaxConcurrentReconciles: Workers}).
		WatchesRawSource(source.Kind(hostCache, s.New(), handler.EnqueueRequestsFromMapFunc(r.fromHost)))
	if w, ok := s.(types.Watcher); ok {
		b = w.Watch(b, sc)
	}
	if err := b.Complete(r); err != nil {
		return fmt.Errorf("starting the %s syncer: %w", s.Kind(), err)
	}
	return nil
}

type reconciler struct {
	sc *synccontext.Context
	s  types.ToHost
}

// fromHost maps a managed host object to the key of its virtual origin.
func (r *reconciler) fromHost(_ context.Context, hObj client.Object) []reconcile.Request {
	key, ok := r.sc.Origin(hObj)
	if !ok || hObj.GetAnnotations()[translate.AnnotationKind] != r.s.Kind() {
		return nil
	}
	return []reconcile.Request{{NamespacedName: key}}
}

func (r *reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("kind", r.s.Kind(), "virtual", req.String())
	ctx = logr.NewContext(ctx, log)
	vObj, err := r.get(ctx, r.sc.Virtual, req.NamespacedName)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("reading virtual %s %s: %w", r.s.Kind(), req, err)
	}
	hKey := client.ObjectKey{Namespace: r.sc.HostNamespace, Name: r.sc.Name(req.Name, req.Namespace)}
	hObj, err := r.get(ctx, r.sc.Host, hKey)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("reading host %s %s: %w", r.s.Kind(), hKey, err)
	}
	if hObj != nil && (!r.sc.Managed(hObj) || hObj.GetAnnotations()[translate.AnnotationName] == "") {
		// Not the syncer's: e.g. the Endpoints the host makes for a synced Service carry
		// the Service's labels but no origin.
		return reconcile.Result{}, nil
	}
	if hObj != nil {
		if err := r.checkOrigin(req.NamespacedName, hObj); err != nil {
			logr.FromContextOrDiscard(ctx).Info("leaving a host object of another origin alone", "host", hObj.GetName(), "reason", err.Error())
			if vObj != nil {
				_ = r.sc.SyncError(vObj, err)
			}
			return reconcile.Result{}, nil
		}
	}
	if vObj == nil && hObj != nil {
		// The cache may lag behind a delete-and-recreate: confirm with the API server.
		if vObj, err = r.get(ctx, r.sc.VirtualReader, req.NamespacedName); err != nil {
			return reconcile.Result{}, fmt.Errorf("reading virtual %s %s: %w", r.s.Kind(), req, err)
		}
	}
	if vObj == nil {
		return reconcile.Result{}, r.deleteHost(ctx, hObj)
	}
	if vObj.GetDeletionTimestamp() != nil {
		if t, ok := r.s.(types.Terminator); ok {
			return reconcile.Result{}, t.Terminate(ctx, r.sc, vObj, hObj)
		}
		return reconcile.Result{}, nil
	}
	if hObj != nil && hObj.GetAnnotations()[translate.AnnotationUID] != string(vObj.GetUID()) {
		return r.replaceStale(ctx, req.NamespacedName, hObj)
	}
	if f, ok := r.s.(types.Filter); ok {
		wanted, err := f.Wanted(ctx, r.sc, vObj)
		if err != nil {
			return reconcile.Result{}, err
		}
		if !wanted {
			return reconcile.Result{}, r.deleteHost(ctx, hObj)
		}
	}
	return r.sync(ctx, vObj, hObj)
}

// checkOrigin makes sure the host object found under the virtual object's host name came
// from that virtual object's name, namespace and kind: the syncer never updates or
// deletes a host object of another origin.
func (r *reconciler) checkOrigin(key client.ObjectKey, hObj client.Object) error {
	a := hObj.GetAnnotations()
	if a[translate.AnnotationName] != key.Name || a[translate.AnnotationNamespace] != key.Namespace || a[translate.AnnotationKind] != r.s.Kind() {
		return fmt.Errorf("host object %s belongs to %s %s/%s, not to this object: it is left alone",
			hObj.GetName(), a[translate.AnnotationKind], a[translate.AnnotationNamespace], a[translate.AnnotationName])
	}
	return nil
}

// replaceStale deletes a host object made for an earlier virtual object of the same name
// (its UID differs) once the virtual API confirms that object is gone; the sync that
// follows creates the new one.
func (r *reconciler) replaceStale(ctx context.Context, key client.ObjectKey, hObj client.Object) (reconcile.Result, error) {
	live, err := r.get(ctx, r.sc.VirtualReader, key)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("reading virtual %s %s: %w", r.s.Kind(), key, err)
	}
	if live != nil && string(live.GetUID()) == hObj.GetAnnotations()[translate.AnnotationUID] {
		return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil // the cache is behind
	}
	return reconcile.Result{}, r.deleteHost(ctx, hObj) // its deletion event brings the key back
}

func (r *reconciler) sync(ctx context.Context, vObj, hObj client.Object) (reconcile.Result, error) {
	if err := r.s.SyncToHost(ctx, r.sc, vObj, hObj); err != nil {
		if translate.IsRefused(err) {
			logr.FromContextOrDiscard(ctx).Info("refused: the host is left as it is", "reason", err.Error())
			_ = r.sc.SyncError(vObj, err)
			return reconcile.Result{}, nil
		}
		if apierrors.IsConflict(err) || errors.Is(err, synccontext.ErrNotCached) {
			return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
		}
		return reconcile.Result{}, err
	}
	if fh, ok := r.s.(types.FromHost); ok && hObj != nil {
		if err := fh.SyncFromHost(ctx, r.sc, hObj, vObj); err != nil {
			if apierrors.IsConflict(err) {
				return reconcile.Result{RequeueAfter: 100 * time.Millisecond}, nil
			}
			return reconcile.Result{}, err
		}
	}
	return r.requeue(ctx, vObj)
}

// requeue asks for the next sync of vObj when its kind wants one later (types.Requeuer).
func (r *reconciler) requeue(ctx context.Context, vObj client.Object) (reconcile.Result, error) {
	rq, ok := r.s.(types.Requeuer)
	if !ok {
		return reconcile.Result{}, nil
	}
	after, err := rq.RequeueAfter(ctx, r.sc, vObj)
	if err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: after}, nil
}

// get reads key into a new object of the kind; nil when it does not exist.
func (r *reconciler) get(ctx context.Context, c client.Reader, key client.ObjectKey) (client.Object, error) {
	obj := r.s.New()
	if err := c.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return obj, nil
}

// deleteHost deletes a managed host object whose virtual origin is gone or unwanted.
func (r *reconciler) deleteHost(ctx context.Context, hObj client.Object) error {
	if hObj == nil || hObj.GetDeletionTimestamp() != nil {
		return nil
	}
	logr.FromContextOrDiscard(ctx).Info("deleting host object", "host", hObj.GetName())
	uid := hObj.GetUID()
	err := r.sc.Host.Delete(ctx, hObj, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting host %s %s: %w", r.s.Kind(), hObj.GetName(), err)
	}
	return nil
}
