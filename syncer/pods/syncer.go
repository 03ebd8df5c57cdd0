package pods

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/synccontext"
)

// Syncer syncs pods.
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &corev1.Pod{} }

// SyncToHost creates the host pod and its token Secret, or brings the host pod in line
// with what the API lets change on a pod: the labels and annotations the syncer owns,
// images, activeDeadlineSeconds and added tolerations (Updated), container resources
// (through pods/resize) and added ephemeral containers (through pods/ephemeralcontainers).
// A refused pod (or a refused change) leaves the host untouched.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	vPod := vObj.(*corev1.Pod)
	if hObj == nil {
		return create(ctx, sc, vPod)
	}
	hPod := hObj.(*corev1.Pod)
	meta, err := sc.ObjectMetaWith(vPod, Kind, podAnnotations)
	if err != nil {
		return err
	}
	if err := ensureToken(ctx, sc, vPod, hPod, true); err != nil {
		return err
	}
	if updated := Updated(vPod, hPod, meta, sc.Pods); updated != nil {
		if err := sc.UpdateHost(ctx, vPod, updated); err != nil {
			return err
		}
		hPod = updated
	}
	if err := resize(ctx, sc, vPod, hPod); err != nil {
		return err
	}
	return addEphemeral(ctx, sc, vPod, hPod)
}

func create(ctx context.Context, sc *synccontext.Context, vPod *corev1.Pod) error {
	hPod, err := ToHost(vPod, options(sc))
	if err != nil {
		return err
	}
	if err := sc.CreateHost(ctx, vPod, hPod); err != nil {
		return err
	}
	return ensureToken(ctx, sc, vPod, hPod, false)
}

// options are the rewrite options of sc. When real host nodes are synced, pods are kept
// on the nodes the tenant sees; the pod policy's node selector still wins.
func options(sc *synccontext.Context) Options {
	policy := sc.Pods
	if sc.Sync.Nodes.Enabled && len(sc.Sync.Nodes.NodeSelector) > 0 {
		policy.NodeSelector = maps.Clone(sc.Sync.Nodes.NodeSelector)
		maps.Copy(policy.NodeSelector, sc.Pods.NodeSelector)
	}
	return Options{Translator: sc.Translator, Pods: policy, ServiceHost: sc.ServiceHost,
		ServicePort: sc.ServicePort, DNSServer: sc.DNSServer}
}

// Terminate plays the kubelet's part in deleting a virtual pod: it deletes the host pod
// with the same grace period, then removes the virtual pod once the host pod is gone.
func (Syncer) Terminate(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	if hObj == nil {
		zero := int64(0)
		uid := vObj.GetUID()
		err := sc.Virtual.Delete(ctx, vObj, &client.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("removing terminated virtual pod: %w", err)
		}
		return nil
	}
	if hObj.GetDeletionTimestamp() != nil {
		return nil
	}
	opts := &client.DeleteOptions{GracePeriodSeconds: vObj.GetDeletionGracePeriodSeconds()}
	if err := sc.Host.Delete(ctx, hObj, opts); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting host pod %s: %w", hObj.GetName(), err)
	}
	return nil
}
