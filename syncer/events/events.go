// Package events copies host events about synced objects into the virtual cluster.
package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/tenantry/tenantry/syncer/synccontext"
)

// kinds are the host kinds whose events are copied, by involvedObject.kind.
var kinds = map[string]func() client.Object{
	"Pod":                   func() client.Object { return &corev1.Pod{} },
	"Service":               func() client.Object { return &corev1.Service{} },
	"PersistentVolumeClaim": func() client.Object { return &corev1.PersistentVolumeClaim{} },
	"ConfigMap":             func() client.Object { return &corev1.ConfigMap{} },
	"Secret":                func() client.Object { return &corev1.Secret{} },
}

// Register adds the controller that copies host events (FromHost only).
func Register(mgr manager.Manager, sc *synccontext.Context) error {
	r := &reconciler{sc: sc}
	err := builder.ControllerManagedBy(mgr).Named(sc.VCluster + "-events").
		WatchesRawSource(source.Kind(sc.HostCache, &corev1.Event{}, &handler.TypedEnqueueRequestForObject[*corev1.Event]{})).
		Complete(r)
	if err != nil {
		return fmt.Errorf("starting the events syncer: %w", err)
	}
	return nil
}

type reconciler struct{ sc *synccontext.Context }

func (r *reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var hEvent corev1.Event
	if err := r.sc.Host.Get(ctx, req.NamespacedName, &hEvent); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	vObj, err := r.origin(ctx, &hEvent)
	if err != nil || vObj == nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{}, r.upsert(ctx, ToVirtual(&hEvent, vObj))
}

// origin is the virtual object a host event is about; nil when it is not a synced object.
func (r *reconciler) origin(ctx context.Context, e *corev1.Event) (client.Object, error) {
	newObj, ok := kinds[e.InvolvedObject.Kind]
	if !ok || e.InvolvedObject.Namespace != r.sc.HostNamespace {
		return nil, nil
	}
	hObj := newObj()
	if err := r.sc.Host.Get(ctx, client.ObjectKey{Namespace: r.sc.HostNamespace, Name: e.InvolvedObject.Name}, hObj); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	key, ok := r.sc.Origin(hObj)
	if !ok {
		return nil, nil
	}
	vObj := newObj()
	if err := r.sc.Virtual.Get(ctx, key, vObj); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return vObj, nil
}

// ToVirtual is the virtual copy of a host event about vObj.
func ToVirtual(h *corev1.Event, vObj client.Object) *corev1.Event {
	sum := sha256.Sum256([]byte(h.Namespace + "/" + h.Name))
	v := h.DeepCopy()
	v.ObjectMeta = metav1.ObjectMeta{Name: vObj.GetName() + "." + hex.EncodeToString(sum[:])[:16], Namespace: vObj.GetNamespace()}
	v.InvolvedObject = corev1.ObjectReference{
		Kind: h.InvolvedObject.Kind, APIVersion: h.InvolvedObject.APIVersion, Namespace: vObj.GetNamespace(),
		Name: vObj.GetName(), UID: vObj.GetUID(), ResourceVersion: vObj.GetResourceVersion(), FieldPath: h.InvolvedObject.FieldPath,
	}
	v.Related = nil
	return v
}

func (r *reconciler) upsert(ctx context.Context, e *corev1.Event) error {
	var existing corev1.Event
	err := r.sc.Virtual.Get(ctx, client.ObjectKeyFromObject(e), &existing)
	if apierrors.IsNotFound(err) {
		if err := r.sc.Virtual.Create(ctx, e); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating virtual event %s: %w", e.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading virtual event %s: %w", e.Name, err)
	}
	if existing.Count == e.Count && existing.Message == e.Message {
		return nil
	}
	existing.Count, existing.Message, existing.LastTimestamp, existing.Series = e.Count, e.Message, e.LastTimestamp, e.Series
	if err := r.sc.Virtual.Update(ctx, &existing); err != nil {
		return fmt.Errorf("updating virtual event %s: %w", e.Name, err)
	}
	return nil
}
