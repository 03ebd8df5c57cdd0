package pods

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/synccontext"
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

// debugHint tells a tenant how kubectl debug stays within Pod Security baseline: its
// default profile (general) adds SYS_PTRACE to the debug container.
const debugHint = " (kubectl debug --profile=baseline or --profile=restricted stays within Pod Security baseline)"

// addEphemeral adds the virtual pod's new ephemeral containers to the host pod through
// the host's pods/ephemeralcontainers subresource. A refused one becomes a SyncError
// event and never reaches the host; the others and the rest of the pod keep syncing.
func addEphemeral(ctx context.Context, sc *synccontext.Context, vPod, hPod *corev1.Pod) error {
	add, err := EphemeralToHost(vPod, hPod, options(sc))
	if err != nil {
		_ = sc.SyncError(vPod, fmt.Errorf("%w%s", err, debugHint))
	}
	if len(add) == 0 {
		return nil
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
