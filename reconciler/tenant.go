package reconciler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TenantResult is the outcome of reconciling one tenant.
type TenantResult struct {
	Name    string
	Changes []string // "Kind/namespace/name action", for created, configured and deleted objects
	Err     error
}

// reconcileTenant applies one tenant's objects, waits for their health, prunes what left
// its inventory (when prune is true) and records the outcome on the host Tenant.
func (a *Agent) reconcileTenant(ctx context.Context, t *v1alpha1.Tenant, rev string, prune bool, ps *passState) TenantResult {
	ctx = withTenant(ctx, t.Name, "")
	log := logr.FromContextOrDiscard(ctx)
	res := TenantResult{Name: t.Name}
	live, old, err := a.ensureMirror(ctx, t, ps.live[t.Name])
	if err != nil {
		res.Err = err
		return res
	}
	st := copyStatus(old)
	st.LastAttemptedRevision, st.SourcePath = rev, t.Status.SourcePath
	if t.Spec.Paused {
		if reason, err := a.claimNamespace(ctx, t, ps.defaults); err != nil {
			return a.fail(ctx, live, old, st, rev, reason, err, res)
		}
		return a.reconcilePaused(ctx, live, t, old, st, rev, res)
	}
	if err := a.refuseDowngrade(t, old); err != nil {
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonDowngradeRefused, err, res)
	}
	if err := a.refuseMissingStorageClass(ctx, t); err != nil {
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonStorageClassNotFound, err, res)
	}
	objs, gitChanged, err := a.desiredObjects(t, rev, st, ps.policies)
	if err != nil {
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonInvalid, err, res)
	}
	if !gitChanged && upToDate(old, objs) {
		// Git did not change this Ready tenant: its health is re-read (no writes) and the
		// revision recorded. Live changes are the drift check's business, on its own interval.
		if err := a.stillHealthy(ctx, objs); err != nil {
			markControlPlaneNotReady(st)
			return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonHealthFailed, err, res)
		}
		st.LastAppliedRevision = rev
		setReady(st, true, v1alpha1.ReasonSucceeded, "Applied revision: "+rev)
		a.remember(t, objs, st.ContentRevision)
		res.Err = a.patchStatus(ctx, t.Name, old, st)
		return res
	}
	// Nothing is applied in a namespace that is not the tenant's own.
	if reason, err := a.claimNamespace(ctx, t, ps.defaults); err != nil {
		return a.fail(ctx, live, old, st, rev, reason, err, res)
	}
	if res.Changes, err = a.converge(ctx, live, t, objs, gitChanged || len(old.Inventory) == 0 || resumed(old), st); err != nil {
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonApplyFailed, err, res)
	}
	// Ready is earned on every pass: the whole set is awaited, changed by this pass or not.
	if err := a.waitHealthy(ctx, objs); err != nil {
		st.Inventory = mergeInventory(inventoryOf(objs), old.Inventory)
		markControlPlaneNotReady(st)
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonHealthFailed, err, res)
	}
	inv := inventoryOf(objs)
	pruned, kept, err := a.pruneStale(ctx, t, rev, old.Inventory, inv, prune)
	res.Changes = append(res.Changes, pruned...)
	if err != nil {
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonApplyFailed, err, res)
	}
	st.Inventory = append(inv, kept...)
	if st.ControlPlane, err = a.controlPlaneOf(ctx, t, st.ControlPlane); err != nil {
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonHealthFailed, err, res)
	}
	if a.opts.VirtualClusters && (st.ControlPlane == nil || !st.ControlPlane.Ready) {
		return a.fail(ctx, live, old, st, rev, v1alpha1.ReasonHealthFailed, fmt.Errorf("%w%s", errControlPlaneNotReady, a.blockers(ctx, objs)), res)
	}
	st.LastAppliedRevision = rev
	setReady(st, true, v1alpha1.ReasonSucceeded, "Applied revision: "+rev)
	if err := a.patchStatus(ctx, t.Name, old, st); err != nil {
		res.Err = err
		return res
	}
	if len(res.Changes) > 0 {
		log.V(1).Info("tenant changed", "changes", res.Changes)
		a.recorder.AnnotatedEventf(live, map[string]string{"revision": rev}, corev1.EventTypeNormal, "Progressing", "%s", strings.Join(res.Changes, "\n"))
	}
	a.remember(t, objs, st.ContentRevision)
	a.recovered(ctx, t.Name, rev)
	return res
}

// upToDate reports whether a tenant is Ready with exactly these objects in its inventory.
func upToDate(st *v1alpha1.TenantStatus, objs []*unstructured.Unstructured) bool {
	ready := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason == v1alpha1.ReasonPaused {
		return false
	}
	inv := inventoryOf(objs)
	if len(inv) != len(st.Inventory) {
		return false
	}
	for i := range inv {
		if inv[i] != st.Inventory[i] {
			return false
		}
	}
	return true
}

// ensureMirror applies the host Tenant object unless the live one (from the pass's
// list, nil if absent) already carries this spec and labels, and returns its status.
func (a *Agent) ensureMirror(ctx context.Context, t *v1alpha1.Tenant, live *unstructured.Unstructured) (*unstructured.Unstructured, *v1alpha1.TenantStatus, error) {
	mirror, err := a.mirrorObject(t)
	if err != nil {
		return nil, nil, err
	}
	if live != nil && sameMirror(live, mirror) {
		st, err := statusOf(live)
		return live, st, err
	}
	if _, err := a.rm.Apply(ctx, mirror, ssa.DefaultApplyOptions()); err != nil {
		return nil, nil, fmt.Errorf("applying the Tenant object: %w", err)
	}
	live, st, _, err := a.getTenant(ctx, t.Name)
	return live, st, err
}

func sameMirror(live, mirror *unstructured.Unstructured) bool {
	for k, v := range mirror.GetLabels() {
		if live.GetLabels()[k] != v {
			return false
		}
	}
	a, _ := json.Marshal(live.Object["spec"])
	b, _ := json.Marshal(mirror.Object["spec"])
	return string(a) == string(b)
}

// desiredObjects renders a tenant and stamps labels and the content revision: the
// revision at which the rendered objects last changed, so unrelated commits write nothing.
// It reports whether Git changed the tenant's objects since the last apply.
func (a *Agent) desiredObjects(t *v1alpha1.Tenant, rev string, st *v1alpha1.TenantStatus, ph *policyPhase) ([]*unstructured.Unstructured, bool, error) {
	objs, err := render.Tenant(t, a.currentHostAPI())
	if err != nil {
		return nil, false, err
	}
	if len(t.Spec.Policies) > 0 {
		if ph.err != nil {
			return nil, false, ph.err
		}
		constraints, err := render.Constraints(t, ph.templates)
		if err != nil {
			return nil, false, err
		}
		objs = append(objs, constraints...)
	}
	vc, err := a.vclusterObjects(t)
	if err != nil {
		return nil, false, err
	}
	objs = append(objs, vc...)
	digest, err := digestOf(t.Status.SourcePath, objs)
	if err != nil {
		return nil, false, err
	}
	changed := digest != st.ContentDigest || st.ContentRevision == ""
	if changed {
		st.ContentDigest, st.ContentRevision = digest, rev
	}
	render.Label(objs, t.Name, t.Status.SourcePath, st.ContentRevision)
	return objs, changed, nil
}

// converge applies a tenant whose objects changed in Git. When Git did not change them,
// any difference from the live state is drift: it is corrected (or, in detect-only mode,
// only reported) and recorded as drift, the same way the periodic drift check does.
func (a *Agent) converge(ctx context.Context, live *unstructured.Unstructured, t *v1alpha1.Tenant, objs []*unstructured.Unstructured, gitChanged bool, st *v1alpha1.TenantStatus) ([]string, error) {
	if gitChanged {
		return a.apply(ctx, objs)
	}
	r := a.correctDrift(ctx, live, &desired{tenant: t, objects: objs, revision: st.ContentRevision}, st)
	var changes []string
	if r.Corrected {
		for _, o := range r.Objects {
			changes = append(changes, o.Object+" drift corrected")
		}
	}
	return changes, r.Err
}

// apply server-side applies objects: the Namespaces with the agent's access to them first
// (grantAccess), then the rest in stages. Health is awaited by the caller (waitHealthy).
func (a *Agent) apply(ctx context.Context, objs []*unstructured.Unstructured) ([]string, error) {
	opts := ssa.DefaultApplyOptions()
	opts.WaitInterval, opts.WaitTimeout = 200*time.Millisecond, a.opts.HealthTimeout
	opts.CustomStageKinds = rolesFirst
	cs, rest, err := a.grantAccess(ctx, objs)
	if err != nil {
		return nil, err
	}
	staged, err := a.rm.ApplyAllStaged(ctx, rest, opts)
	if staged != nil {
		cs.Append(staged.Entries)
	}
	logChanges(ctx, "applied", cs, err)
	changes := changesOf(cs)
	if err != nil {
		return changes, fmt.Errorf("applying: %w", err)
	}
	return changes, nil
}

// pruneStale deletes what left the inventory, but only objects carrying this tenant's
// owner labels. A namespace the tenant left follows its deletion policy (see
// retainLeftNamespaces). With prune false the stale entries are kept for a later pass.
func (a *Agent) pruneStale(ctx context.Context, t *v1alpha1.Tenant, rev string, old, current []v1alpha1.ObjectRef, prune bool) ([]string, []v1alpha1.ObjectRef, error) {
	objs, err := stale(old, current)
	if err != nil || len(objs) == 0 {
		return nil, nil, err
	}
	if !prune {
		return nil, inventoryOf(objs), nil
	}
	retained, objs, err := a.retainLeftNamespaces(ctx, t, objs, rev)
	if err != nil || len(objs) == 0 {
		return retained, inventoryOf(objs), err
	}
	cs, err := a.rm.DeleteAll(ctx, objs, ownedBy(t.Name))
	logChanges(ctx, "pruned", cs, err)
	return append(retained, changesOf(cs)...), nil, err
}

func ownedBy(tenant string) ssa.DeleteOptions {
	return ssa.DeleteOptions{
		PropagationPolicy: metav1.DeletePropagationBackground,
		Inclusions:        map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: tenant},
	}
}

// fail records a failed reconcile as Stalled, and alerts once per revision and error.
func (a *Agent) fail(ctx context.Context, live *unstructured.Unstructured, old, st *v1alpha1.TenantStatus, rev, reason string, cause error, res TenantResult) TenantResult {
	res.Err = cause
	setReady(st, false, reason, cause.Error())
	if err := a.patchStatus(ctx, res.Name, old, st); err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "recording a failure", "tenant", res.Name)
	}
	if live != nil {
		a.recorder.AnnotatedEventf(live, map[string]string{"revision": rev}, corev1.EventTypeWarning, reason, "%s", cause.Error())
	}
	a.alertFailure(ctx, res.Name, rev, cause.Error())
	return res
}

func apiPaused(st *v1alpha1.TenantStatus) {
	ready := metav1.ConditionUnknown
	for _, c := range st.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			ready = c.Status
		}
	}
	setReady(st, ready != metav1.ConditionFalse, v1alpha1.ReasonPaused, "Reconciliation is paused by spec.paused")
}

func changesOf(cs *ssa.ChangeSet) []string {
	if cs == nil {
		return nil
	}
	var out []string
	for _, e := range cs.Entries {
		switch e.Action {
		case ssa.CreatedAction, ssa.ConfiguredAction, ssa.DeletedAction:
			out = append(out, e.String())
		}
	}
	return out
}

func digestOf(source string, objs []*unstructured.Unstructured) (string, error) {
	h := sha256.New()
	h.Write([]byte(source))
	for _, o := range objs {
		data, err := json.Marshal(o.Object)
		if err != nil {
			return "", fmt.Errorf("hashing %s: %w", o.GetName(), err)
		}
		h.Write(data)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func (a *Agent) remember(t *v1alpha1.Tenant, objs []*unstructured.Unstructured, rev string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.applied[t.Name] = &desired{tenant: t, objects: objs, revision: rev}
}

func (a *Agent) forget(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.applied, name)
}

// alertFailure notifies a failure once per tenant, revision and message.
func (a *Agent) alertFailure(ctx context.Context, tenant, rev, msg string) {
	key := rev + "\x00" + msg
	a.mu.Lock()
	seen := a.failing[tenant] == key
	a.failing[tenant] = key
	a.mu.Unlock()
	if !seen {
		a.notify(ctx, notify.Event{Kind: notify.KindFailure, Tenant: tenant, Revision: rev, Message: msg})
	}
	a.checkStalled(ctx, tenant, rev, msg)
}

// recovered notifies once when a failing tenant becomes Ready again.
func (a *Agent) recovered(ctx context.Context, tenant, rev string) {
	a.mu.Lock()
	_, was := a.failing[tenant]
	delete(a.failing, tenant)
	a.stalls.recovered(tenant)
	a.mu.Unlock()
	if was {
		a.notify(ctx, notify.Event{Kind: notify.KindRecovered, Tenant: tenant, Revision: rev, Message: "tenant is Ready again"})
	}
}

// notify delivers an event in the background: a slow provider never blocks reconciliation.
func (a *Agent) notify(ctx context.Context, e notify.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	a.mu.Lock()
	e.Author, e.CommitMessage, e.RepoURL = a.commit.author, a.commit.message, a.opts.RepoURL
	a.mu.Unlock()
	log := logr.FromContextOrDiscard(ctx)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := a.opts.Notifier.Notify(ctx, e); err != nil {
			log.Error(err, "notification failed", "kind", e.Kind, "tenant", e.Tenant)
		}
	}()
}
