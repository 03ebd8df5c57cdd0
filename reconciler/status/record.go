package status

import (
	"context"
	"encoding/json"
	"fmt"
	jsonpatch "github.com/evanphx/json-patch/v5"
	"reflect"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Record is one host Tenant's status through one pass, as Flux's patch helper holds an
// object: Old as the pass found it, New as the pass changes it. Patch, deferred by the
// pass, writes New once, and only when it differs from Old.
type Record struct {
	Name string
	// Live is the host Tenant, which Events are recorded on.
	Live *unstructured.Unstructured
	Old  *v1alpha1.TenantStatus
	New  *v1alpha1.TenantStatus
	c    client.Client
	// version is the Tenant's resourceVersion as read, then as Patch left it.
	version string
}

// Version is the host Tenant's resourceVersion: as the pass read it, or as its status
// write left it.
func (r *Record) Version() string { return r.version }

// Applier server-side applies one object.
type Applier func(ctx context.Context, obj *unstructured.Unstructured) error

func newRecord(c client.Client, name string, live *unstructured.Unstructured, old *v1alpha1.TenantStatus) *Record {
	r := &Record{Name: name, Live: live, Old: old, New: copyStatus(old), c: c}
	if live != nil {
		r.version = live.GetResourceVersion()
	}
	return r
}

// Open opens the record of a valid tenant. The host Tenant is applied first (with apply)
// unless listed, the live one from the pass's list (nil if absent), already carries this
// spec and labels.
func Open(ctx context.Context, c client.Client, apply Applier, t *v1alpha1.Tenant, listed *unstructured.Unstructured, instance string) (*Record, error) {
	mirror, err := Mirror(t, instance)
	if err != nil {
		return nil, err
	}
	if listed != nil && SameMirror(listed, mirror) {
		st, err := Of(listed)
		if err != nil {
			return nil, err
		}
		return newRecord(c, t.Name, listed, st), nil
	}
	if err := apply(ctx, mirror); err != nil {
		return nil, fmt.Errorf("applying the Tenant object: %w", err)
	}
	live, st, _, err := Get(ctx, c, t.Name)
	if err != nil {
		return nil, err
	}
	return newRecord(c, t.Name, live, st), nil
}

// OpenInvalid opens the record of a tenant whose file fails validation, leaving the spec
// of its host Tenant alone; a Tenant that does not exist yet is created without a spec.
func OpenInvalid(ctx context.Context, c client.Client, name, instance string) (*Record, error) {
	live, old, exists, err := Get(ctx, c, name)
	if err == nil && !exists {
		stub := &v1alpha1.Tenant{}
		stub.Name = name
		if live, err = Mirror(stub, instance); err == nil {
			err = c.Create(ctx, live)
		}
	}
	if err != nil {
		return nil, err
	}
	return newRecord(c, name, live, old), nil
}

// Load opens the record of an existing host Tenant; ok is false when there is none.
func Load(ctx context.Context, c client.Client, name string) (*Record, bool, error) {
	live, old, ok, err := Get(ctx, c, name)
	if err != nil || !ok {
		return nil, ok, err
	}
	return newRecord(c, name, live, old), true, nil
}

// Patch writes New as the Tenant's status when it differs from Old; an unchanged status is
// not written. Nor is a Ready tenant whose status changed only in the pass's revision: the
// agent records the revision of each pass once (AgentRecord), so a commit costs a write
// only for the tenants it changed, and AppliedRevision tells what a Tenant has applied.
func (r *Record) Patch(ctx context.Context) error {
	if reflect.DeepEqual(normalize(r.Old), normalize(r.New)) || (succeeded(r.Old) && succeeded(r.New) &&
		reflect.DeepEqual(normalize(withoutRevision(r.Old)), normalize(withoutRevision(r.New)))) {
		return nil
	}
	data, err := statusPatch(r.Old, r.New)
	if err != nil {
		return fmt.Errorf("encoding status of tenant %s: %w", r.Name, err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(TenantGVK)
	u.SetName(r.Name)
	if err := r.c.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, data)); err != nil {
		return fmt.Errorf("writing status of tenant %s: %w", r.Name, err)
	}
	r.version = u.GetResourceVersion()
	return nil
}

// statusPatch is the JSON merge patch from old to new status: a field new no longer has
// (an external endpoint gone, say) is written as null, so it is cleared, not kept.
func statusPatch(old, new *v1alpha1.TenantStatus) ([]byte, error) {
	from, err := json.Marshal(map[string]any{"status": old})
	if err != nil {
		return nil, err
	}
	to, err := json.Marshal(map[string]any{"status": new})
	if err != nil {
		return nil, err
	}
	return jsonpatch.CreateMergePatch(from, to)
}

// succeeded reports whether st records a Ready tenant that applied its revision.
func succeeded(st *v1alpha1.TenantStatus) bool {
	ready := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	return ready != nil && ready.Status == metav1.ConditionTrue && ready.Reason == v1alpha1.ReasonSucceeded
}

// withoutRevision is st without what names the pass's revision: the revisions attempted
// and applied, and the conditions' messages, which say "Applied revision: <rev>".
func withoutRevision(st *v1alpha1.TenantStatus) *v1alpha1.TenantStatus {
	out := copyStatus(st)
	out.LastAttemptedRevision, out.LastAppliedRevision = "", ""
	for i := range out.Conditions {
		if out.Conditions[i].Reason == v1alpha1.ReasonSucceeded {
			out.Conditions[i].Message = ""
		}
	}
	return out
}

// normalize round-trips a status through JSON so nil and empty compare equal.
func normalize(st *v1alpha1.TenantStatus) map[string]any {
	data, _ := json.Marshal(st)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m
}

func copyStatus(st *v1alpha1.TenantStatus) *v1alpha1.TenantStatus {
	out := &v1alpha1.TenantStatus{}
	data, _ := json.Marshal(st)
	_ = json.Unmarshal(data, out)
	return out
}
