package plan

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// Action is what a pass does with a tenant.
type Action int

// The actions of a Tenant plan, chosen in this order.
const (
	// Refuse applies nothing: Refusal says why (an invalid file, a namespace that is not
	// the tenant's, a version downgrade, a missing StorageClass, a render failure).
	Refuse Action = iota
	// Pause scales the virtual cluster to zero (Objects holds its StatefulSet) and applies,
	// prunes and corrects nothing else.
	Pause
	// Confirm is for a Ready tenant whose objects Git did not change: their health is
	// re-read once, nothing is written; live changes are left to the drift check.
	Confirm
	// Apply applies every object in stages: Git changed them, nothing was applied yet,
	// or the tenant resumed from a pause.
	Apply
	// CorrectDrift diffs the objects Git did not change with the live ones and re-applies
	// when they differ.
	CorrectDrift
	// DetectDrift diffs like CorrectDrift but only reports (detect-only mode).
	DetectDrift
)

var actionNames = [...]string{"refuse", "pause", "confirm", "apply", "correct-drift", "detect-drift"}

func (a Action) String() string { return actionNames[a] }

// Tenant is what one pass does with one tenant, decided before anything is written.
type Tenant struct {
	Name string
	// Source is the tenant's file.
	Source string
	// Declared is the tenant as Git declares it; nil for an invalid file.
	Declared *v1alpha1.Tenant
	Action   Action
	// Refusal is why nothing (more) is done: with Refuse, or with Pause when the paused
	// StatefulSet cannot be rendered.
	Refusal *Refusal
	// Reclaim is the tenant's own namespace, marked orphaned when it left it: the mark is
	// removed before anything else is written.
	Reclaim *corev1.Namespace
	// Objects are the desired objects, labelled and each stamped with the revision at which
	// it last changed (Content.Revision when this commit changed it), in
	// render order (for Pause: the StatefulSet at zero replicas).
	Objects []*unstructured.Unstructured
	// Content is the tenant's content digest and revision once rendered, nil before.
	Content *Content
	// inventory is Objects' inventory with digests and revision stamps (Inventory).
	inventory []v1alpha1.ObjectRef
	// Input digests what the objects were rendered from (InputKey); set by the agent, which
	// remembers the plans it carried out in full by it.
	Input string
	// Stale are the inventory entries no longer desired, as object stubs; StaleErr is why
	// the inventory could not be read back.
	Stale    []*unstructured.Unstructured
	StaleErr error
	// Orphan are the stale Namespaces that deletionPolicy Retain keeps (annotated
	// orphaned, with everything inside them); Prune are the stale objects to delete.
	Orphan, Prune []*unstructured.Unstructured
	// PruneHeldBack keeps every stale entry in the inventory for a later pass.
	PruneHeldBack bool
	// Health is what must be (or become) healthy for the tenant to be Ready.
	Health Health
}

// Refusal is why a tenant is not (further) applied, with the Ready condition's reason.
type Refusal struct {
	Reason string
	Err    error
}

func (r *Refusal) Error() string { return r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// Content tracks the revision at which a tenant's rendered objects last changed.
type Content struct {
	// Digest hashes the source path and rendered objects; Revision is the revision at
	// which Digest last changed, stamped on every object.
	Digest, Revision string
	// Changed is true when Git changed the rendered objects since the last apply.
	Changed bool
}

// Health is what a pass expects healthy.
type Health struct {
	// Wait waits up to the health timeout (after a write); without it, health is read once.
	Wait bool
	// Workloads are the objects whose health is more than existence (kstatus Current).
	Workloads []*unstructured.Unstructured
	// Constraints must be reported enforced by Gatekeeper.
	Constraints []*unstructured.Unstructured
	// ControlPlane requires the virtual cluster's control plane to answer ready.
	ControlPlane bool
}

// Pass is what the decisions of every tenant in one pass share.
type Pass struct {
	// Revision is the revision being reconciled.
	Revision string
	// HeldBack is why pruning and tenant removal are held back, "" when they are not.
	HeldBack string
	// Defaults is the repo's defaults.yaml, nil when it has none.
	Defaults *v1alpha1.TenantDefaults
	// Render holds what rendering depends on besides the tenant.
	Render render.DesiredOptions
	// DetectOnly reports drift without correcting it, for every tenant.
	DetectOnly bool
	// ProtectedNamespaces no tenant may claim, besides the built-in and defaults.yaml's.
	ProtectedNamespaces []string
	// RenderKey digests Render (RenderKey).
	RenderKey string
}

// Reader reads what decisions depend on from the host, only when a decision needs it. It
// never writes.
type Reader interface {
	// Namespace returns a host namespace, nil when there is none.
	Namespace(ctx context.Context, name string) (*corev1.Namespace, error)
	// StorageClassExists reports whether the host has a StorageClass.
	StorageClassExists(ctx context.Context, name string) (bool, error)
}
