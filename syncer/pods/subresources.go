package pods

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// resize applies the virtual pod's container resources to the host pod through the
// host's pods/resize subresource. The host enforces its quota and LimitRange: its refusal
// becomes a SyncError event, and the rest of the pod keeps syncing.
func resize(ctx context.Context, sc *synccontext.Context, vPod, hPod *corev1.Pod) error {
	resized := Resized(vPod, hPod)
	if resized == nil {
		return nil
	}
	err := sc.Host.SubResource("resize").Patch(ctx, resized, client.StrategicMergeFrom(hPod))
	switch {
	case err == nil:
		*hPod = *resized
		return nil
	case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
		_ = sc.SyncError(vPod, fmt.Errorf("the host refused a resize of %s: %w", hPod.Name, err))
		return nil
	default:
		return fmt.Errorf("resizing host pod %s: %w", hPod.Name, err)
	}
}

// addEphemeral adds the virtual pod's new ephemeral containers to the host pod through
// the host's pods/ephemeralcontainers subresource. A refused one becomes a SyncError
// event and nothing is added; the rest of the pod keeps syncing.
func addEphemeral(ctx context.Context, sc *synccontext.Context, vPod, hPod *corev1.Pod) error {
	add, err := EphemeralToHost(vPod, hPod, options(sc))
	if translate.IsRefused(err) {
		_ = sc.SyncError(vPod, err)
		return nil
	}
	if err != nil || len(add) == 0 {
		return err
	}
	updated := hPod.DeepCopy()
	updated.Spec.EphemeralContainers = append(updated.Spec.EphemeralContainers, add...)
	err = sc.Host.SubResource("ephemeralcontainers").Patch(ctx, updated, client.StrategicMergeFrom(hPod))
	switch {
	case err == nil:
		return nil
	case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
		_ = sc.SyncError(vPod, fmt.Errorf("the host refused ephemeral containers for %s: %w", hPod.Name, err))
		return nil
	default:
		return fmt.Errorf("adding ephemeral containers to host pod %s: %w", hPod.Name, err)
	}
}
