package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/plan"
	"github.com/tenantry/tenantry/reconciler/status"
)

// TenantResult is the outcome of reconciling one tenant.
type TenantResult struct {
	Name    string
	Changes []string // "Kind/namespace/name action", for created, configured and deleted objects
	Err     error
}

// errControlPlaneNotReady is returned when every object is applied but the tenant's
// virtual control plane does not answer ready.
var errControlPlaneNotReady = errors.New("the virtual cluster's control plane is not ready")

// errUnfinished is the outcome of a pass that did not finish carrying out its plan.
var errUnfinished = errors.New("the reconcile did not finish")

// outcome is how carrying out a tenant's plan ended; finish records it.
type outcome struct {
	reason  string // the Ready reason of a failure
	err     error  // the failure; nil when the tenant is Ready or paused
	paused  bool
	changes []string
	applied *plan.Tenant // set when the plan was carried out in full: announced, remembered, recovers alerts
}

func failed(reason string, err error, changes []string) outcome {
	return outcome{reason: reason, err: err, changes: changes}
}

// reconcileTenant confirms a tenant the memo holds unchanged with its workloads still
// healthy; any other it reads, opens its status record (applying its host Tenant), plans
// and carries the plan out.
func (a *Agent) reconcileTenant(ctx context.Context, t *v1alpha1.Tenant, ps *pass) TenantResult {
	ctx = withTenant(ctx, t.Name, "")
	if w, ok := a.memo.unchanged(t.Name, ps.inputs[t.Name], ps.versions[t.Name]); ok {
		if a.apply.StillHealthy(ctx, plan.Health{Workloads: w}) == nil {
			return TenantResult{Name: t.Name}
		}
		a.memo.forget(t.Name) // the full pass below records why
	}
	listed, err := a.listed(ctx, t.Name, ps)
	if err != nil {
		return TenantResult{Name: t.Name, Err: err}
	}
	rec, err := status.Open(ctx, a.client, a.apply.ApplyObject, t, listed, a.opts.Instance)
	if err != nil {
		return TenantResult{Name: t.Name, Err: err}
	}
	rec.New.LastAttemptedRevision, rec.New.SourcePath = ps.Revision, t.Status.SourcePath
	p := plan.Decide(ctx, a.apply, &ps.Pass, t, rec.Old)
	p.Input = ps.inputs[t.Name]
	return a.settle(ctx, rec, p, ps.Revision)
}

// listed is a tenant's host Tenant as the pass found it: from its whole list, or read
// alone when the pass listed only versions; nil when there is none.
func (a *Agent) listed(ctx context.Context, name string, ps *pass) (*unstructured.Unstructured, error) {
	if ps.listed != nil || ps.versions[name] == "" {
		return ps.listed[name], nil
	}
	live, _, ok, err := status.Get(ctx, a.client, name)
	if !ok {
		return nil, err
	}
	return live, nil
}

// reconcileInvalid records a tenant file that failed validation as Stalled, leaving its
// live objects and spec alone.
func (a *Agent) reconcileInvalid(ctx context.Context, f loader.FailedTenant, rev string) {
	rec, err := status.OpenInvalid(ctx, a.client, f.Name, a.opts.Instance)
	if err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "recording an invalid tenant", "tenant", f.Name)
		return
	}
	rec.New.LastAttemptedRevision, rec.New.SourcePath = rev, f.Path
	a.settle(ctx, rec, plan.Invalid(f), rev)
}

// settle carries out a tenant's plan and, deferred, records the outcome: the tenant's one
// status write of the pass, whatever path the pass took (one that never finished is no
// success).
func (a *Agent) settle(ctx context.Context, rec *status.Record, p *plan.Tenant, rev string) (res TenantResult) {
	o := failed(v1alpha1.ReasonApplyFailed, errUnfinished, nil)
	defer func() { res = a.finish(ctx, rec, rev, o) }()
	o = a.carryOut(ctx, rec, p, rev)
	return res
}

// carryOut does what the plan decided and records in the status what it found on the way
// (inventory, control plane, drift); the conditions are finish's.
func (a *Agent) carryOut(ctx context.Context, rec *status.Record, p *plan.Tenant, rev string) outcome {
	if p.Content != nil {
		rec.New.ContentDigest, rec.New.ContentRevision = p.Content.Digest, p.Content.Revision
	}
	if p.Action == plan.Refuse {
		return failed(p.Refusal.Reason, p.Refusal.Err, nil)
	}
	if p.Reclaim != nil {
		if err := a.apply.Reclaim(ctx, p.Reclaim); err != nil {
			return failed(v1alpha1.ReasonApplyFailed, err, nil)
		}
	}
	switch p.Action {
	case plan.Pause:
		return a.pause(ctx, rec, p)
	case plan.Confirm:
		return a.confirm(ctx, rec, p)
	}
	return a.converge(ctx, rec, p, rev)
}

// pause scales a paused tenant's virtual cluster to zero; nothing else is applied, pruned
// or corrected, and the drift check forgets the tenant.
func (a *Agent) pause(ctx context.Context, rec *status.Record, p *plan.Tenant) outcome {
	a.applied.forget(p.Name)
	if !a.opts.VirtualClusters {
		return outcome{paused: true}
	}
	status.MarkControlPlaneNotReady(rec.New)
	if p.Refusal != nil {
		return failed(p.Refusal.Reason, p.Refusal.Err, nil)
	}
	if err := a.apply.PauseVCluster(ctx, p.Objects[0], p.Declared.HostNamespace()); err != nil {
		return failed(v1alpha1.ReasonApplyFailed, err, nil)
	}
	return outcome{paused: true}
}

// confirm re-reads the health of a tenant Git did not change (no writes) and records the
// revision. Live changes are the drift check's business, on its own interval.
func (a *Agent) confirm(ctx context.Context, rec *status.Record, p *plan.Tenant) outcome {
	if err := a.apply.StillHealthy(ctx, p.Health); err != nil {
		status.MarkControlPlaneNotReady(rec.New)
		return failed(v1alpha1.ReasonHealthFailed, err, nil)
	}
	if endpointPending(p, rec.New) {
		ep, err := a.apply.ExternalEndpoint(ctx, p.Declared)
		if err != nil {
			return failed(v1alpha1.ReasonHealthFailed, err, nil)
		}
		rec.New.ControlPlane.ExternalEndpoint = ep
	}
	return outcome{applied: p}
}

// endpointPending reports whether the tenant's external endpoint comes from the live state
// (a load balancer's address, which arrives after the pass that asked for it, or a node
// port) and is not known yet.
func endpointPending(p *plan.Tenant, st *v1alpha1.TenantStatus) bool {
	if st.ControlPlane == nil || st.ControlPlane.ExternalEndpoint != "" {
		return false
	}
	return p.Declared.Spec.Expose.Type == "LoadBalancer" || p.Declared.Spec.Expose.Type == "NodePort"
}

// converge applies the tenant's objects (or corrects or detects their drift), waits for
// the health of the whole set on every pass, changed by this pass or not, prunes and
// records the inventory and the control plane.
func (a *Agent) converge(ctx context.Context, rec *status.Record, p *plan.Tenant, rev string) outcome {
	changes, err := a.write(ctx, rec, p)
	if err != nil {
		return failed(v1alpha1.ReasonApplyFailed, err, changes)
	}
	if err := a.apply.WaitHealthy(ctx, p.Health); err != nil {
		rec.New.Inventory = plan.MergeInventory(p.Inventory(), rec.Old.Inventory)
		status.MarkControlPlaneNotReady(rec.New)
		return failed(v1alpha1.ReasonHealthFailed, err, changes)
	}
	pruned, kept, err := a.prune(ctx, p, rev)
	changes = append(changes, pruned...)
	if err != nil {
		return failed(v1alpha1.ReasonApplyFailed, err, changes)
	}
	rec.New.Inventory = append(p.Inventory(), kept...)
	if err := a.controlPlane(ctx, rec, p); err != nil {
		return failed(v1alpha1.ReasonHealthFailed, err, changes)
	}
	return outcome{changes: changes, applied: p}
}

// write applies the objects (plan.Apply) or, when Git did not change them, treats any
// difference from the live state as drift: corrected, or only reported, and recorded the
// same way the periodic drift check does.
func (a *Agent) write(ctx context.Context, rec *status.Record, p *plan.Tenant) ([]string, error) {
	if p.Action == plan.Apply {
		return a.apply.Apply(ctx, p.Objects)
	}
	d := &desired{tenant: p.Declared, revision: p.Content.Revision}
	r := a.correctDrift(ctx, rec, d, p.Objects, p.Action == plan.CorrectDrift)
	var changes []string
	if r.Corrected {
		for _, o := range r.Objects {
			changes = append(changes, o.Object+" drift corrected")
		}
	}
	return changes, r.Err
}

// prune carries out the plan's pruning: it returns the changes and the stale entries that
// stay in the inventory (all of them when pruning is held back).
func (a *Agent) prune(ctx context.Context, p *plan.Tenant, rev string) ([]string, []v1alpha1.ObjectRef, error) {
	if p.StaleErr != nil || len(p.Stale) == 0 {
		return nil, nil, p.StaleErr
	}
	if p.PruneHeldBack {
		return nil, plan.Inventory(p.Stale), nil
	}
	var changes []string
	if len(p.Orphan) > 0 {
		if err := a.apply.Orphan(ctx, p.Orphan, rev); err != nil {
			return nil, plan.Inventory(p.Stale), err
		}
		for _, ns := range p.Orphan {
			changes = append(changes, "Namespace/"+ns.GetName()+" retained (orphaned: deletionPolicy Retain)")
		}
		logr.FromContextOrDiscard(ctx).Info("retained the namespaces the tenant left", "namespaces", changes)
	}
	if len(p.Prune) == 0 {
		return changes, plan.Inventory(p.Prune), nil
	}
	pruned, err := a.apply.Prune(ctx, p.Name, p.Prune)
	return append(changes, pruned...), nil, err
}

// controlPlane records status.controlPlane from the live virtual cluster and requires it
// ready, when the plan expects a control plane.
func (a *Agent) controlPlane(ctx context.Context, rec *status.Record, p *plan.Tenant) error {
	if !p.Health.ControlPlane {
		return nil
	}
	cp, err := a.apply.ControlPlane(ctx, p.Declared)
	rec.New.ControlPlane = cp
	if err != nil {
		return err
	}
	if !cp.Ready {
		return fmt.Errorf("%w%s", errControlPlaneNotReady, a.apply.Blockers(ctx, p.Health.Workloads))
	}
	return nil
}

// finish records the outcome of a tenant's pass: the Ready and Stalled conditions, then
// the one status patch, then what follows it: a failure's Warning Event and alert, or a
// full apply's Progressing Event, the tenant remembered for the drift check and its plan's
// inputs in the memo, and a recovery alert. Anything else leaves the memo.
func (a *Agent) finish(ctx context.Context, rec *status.Record, rev string, o outcome) TenantResult {
	res := TenantResult{Name: rec.Name, Changes: o.changes, Err: o.err}
	switch {
	case o.err != nil:
		status.SetReady(rec.New, false, o.reason, o.err.Error())
	case o.paused:
		status.SetPaused(rec.New)
	default:
		status.SetApplied(rec.New, rev)
	}
	err := rec.Patch(ctx)
	a.memo.forget(rec.Name) // remembered again below only when the plan was carried out in full
	log := logr.FromContextOrDiscard(ctx)
	switch {
	case o.err != nil:
		if err != nil {
			log.Error(err, "recording a failure", "tenant", rec.Name)
		}
		if rec.Live != nil {
			a.recorder.AnnotatedEventf(rec.Live, map[string]string{"revision": rev}, corev1.EventTypeWarning, o.reason, "%s", o.err.Error())
		}
		a.alerts.failure(ctx, rec.Name, rev, o.err.Error())
	case err != nil:
		res.Err = err
	case o.applied != nil:
		if len(res.Changes) > 0 {
			log.V(1).Info("tenant changed", "changes", res.Changes)
			a.recorder.AnnotatedEventf(rec.Live, map[string]string{"revision": rev}, corev1.EventTypeNormal, "Progressing", "%s", strings.Join(res.Changes, "\n"))
		}
		a.applied.remember(o.applied.Declared, o.applied.Content.Revision)
		if !endpointPending(o.applied, rec.New) { // a pending one is looked for again next pass
			a.memo.remember(o.applied, rec.Version())
		}
		a.alerts.recovered(ctx, rec.Name, rev)
	}
	return res
}
