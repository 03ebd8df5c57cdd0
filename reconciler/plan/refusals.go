package plan

import (
	"context"
	"errors"
	"fmt"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// ErrDowngradeRefused is returned for a tenant whose kubernetesVersion is an older minor
// than the one its virtual cluster runs: the control plane's storage cannot go back.
var ErrDowngradeRefused = errors.New("kubernetes version downgrade refused")

// ErrStorageClassNotFound is returned when a tenant's data volume names a StorageClass the
// host lacks.
var ErrStorageClassNotFound = errors.New("storage class not found")

// refuseDowngrade refuses a tenant asking for an older minor version than its virtual
// cluster runs (status.controlPlane.version).
func refuseDowngrade(virtualClusters bool, t *v1alpha1.Tenant, st *v1alpha1.TenantStatus) error {
	if !virtualClusters || st.ControlPlane == nil || st.ControlPlane.Version == "" {
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

// refuseMissingStorageClass refuses, before anything is applied, a control plane whose data
// volume names a StorageClass the host lacks: its claim would stay Pending, and once the
// StatefulSet exists a fix in Git could not reach its immutable volumeClaimTemplates.
func refuseMissingStorageClass(ctx context.Context, r Reader, virtualClusters bool, t *v1alpha1.Tenant) error {
	p := t.Spec.Persistence
	if !virtualClusters || p.StorageClassName == "" || p.Size == nil || p.Size.IsZero() {
		return nil
	}
	exists, err := r.StorageClassExists(ctx, p.StorageClassName)
	if err != nil {
		return fmt.Errorf("reading StorageClass %q: %w", p.StorageClassName, err)
	}
	if !exists {
		return fmt.Errorf("%w: spec.persistence.storageClassName %q: the host has no such StorageClass, so the virtual "+
			"cluster's data volume would never bind; nothing was applied: name an existing class, or leave it empty for the host's default",
			ErrStorageClassNotFound, p.StorageClassName)
	}
	return nil
}
