package apply

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
)

// FieldManager is the stable server-side apply field manager of every write.
const FieldManager = wellknown.FieldManager

// Manager is the agent's one server-side apply manager on the host cluster.
type Manager struct {
	client        client.Client
	rm            *ssa.ResourceManager
	healthTimeout time.Duration
	access        agentAccess
}

// New builds the Manager of the host behind c; healthTimeout bounds every health wait.
func New(c client.Client, healthTimeout time.Duration) *Manager {
	poller := polling.NewStatusPoller(c, c.RESTMapper(), polling.Options{})
	rm := ssa.NewResourceManager(c, poller, ssa.Owner{Field: FieldManager, Group: v1alpha1.Group})
	return &Manager{client: c, rm: rm, healthTimeout: healthTimeout}
}

// ApplyObject server-side applies one object, such as a host Tenant.
func (m *Manager) ApplyObject(ctx context.Context, obj *unstructured.Unstructured) error {
	_, err := m.rm.Apply(ctx, obj, ssa.DefaultApplyOptions())
	return err
}

// InstallCRDs server-side applies the Tenant CRD and waits for it to be established; with
// the rights to, it also applies the fixed ClusterRoles the tenantry chart ships.
func (m *Manager) InstallCRDs(ctx context.Context) error {
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(v1alpha1.CRD, &crd.Object); err != nil {
		return fmt.Errorf("decoding the Tenant CRD: decoding YAML: %w", err)
	}
	opts := ssa.DefaultApplyOptions()
	opts.WaitInterval, opts.WaitTimeout = 200*time.Millisecond, time.Minute
	if _, err := m.rm.ApplyAllStaged(ctx, []*unstructured.Unstructured{crd}, opts); err != nil {
		return fmt.Errorf("applying the Tenant CRD: %w", err)
	}
	return m.installClusterRoles(ctx)
}

// Namespace reads a host namespace; nil when there is none.
func (m *Manager) Namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{}
	if err := m.client.Get(ctx, client.ObjectKey{Name: name}, ns); apierrors.IsNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return ns, nil
}

// StorageClassExists reports whether the host has a StorageClass.
func (m *Manager) StorageClassExists(ctx context.Context, name string) (bool, error) {
	err := m.client.Get(ctx, client.ObjectKey{Name: name}, &storagev1.StorageClass{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Serves reports whether the cluster serves a kind, e.g. whether a CRD is installed.
func (m *Manager) Serves(gvk schema.GroupVersionKind) (bool, error) {
	_, err := m.client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	switch {
	case apimeta.IsNoMatchError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("looking up the %s kind: %w", gvk.Kind, err)
	}
	return true, nil
}

// Diff is a server-side dry-run apply of obj: what it would do, the live object and the
// object as it would be.
func (m *Manager) Diff(ctx context.Context, obj *unstructured.Unstructured) (*ssa.ChangeSetEntry, *unstructured.Unstructured, *unstructured.Unstructured, error) {
	return m.rm.Diff(ctx, obj.DeepCopy(), ssa.DefaultDiffOptions())
}
