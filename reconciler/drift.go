package reconciler

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler/plan"
	"github.com/tenantry/tenantry/reconciler/status"
)

// Drift is the drift found on one tenant in one check.
type Drift struct {
	Tenant    string
	Objects   []v1alpha1.DriftObject
	Corrected bool
	Err       error
	// Changes holds each drifted object's fields with live (Old) and desired (New)
	// values, by object name; Secret values are masked.
	Changes map[string][]notify.FieldChange
}

// CheckDrift compares every applied tenant's objects with the live state through a
// server-side dry-run, records drift on the Tenant, and corrects it unless the tenant
// or the agent is in detect-only mode. It returns only the tenants that drifted or failed.
func (a *Agent) CheckDrift(ctx context.Context) []Drift {
	var (
		out []Drift
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, a.opts.Workers)
	)
	for _, d := range a.applied.all() {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if r := a.checkTenant(ctx, d); r.Err != nil || len(r.Objects) > 0 {
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Tenant < out[j].Tenant })
	return out
}

// checkTenant is the periodic drift check of one tenant: diff, correct, and record, in
// the tenant's one status write of the check, deferred.
func (a *Agent) checkTenant(ctx context.Context, d *desired) (r Drift) {
	ctx = withTenant(ctx, d.tenant.Name, d.revision)
	rec, ok, err := status.Load(ctx, a.client, d.tenant.Name)
	if err != nil || !ok {
		return Drift{Tenant: d.tenant.Name, Err: fmt.Errorf("reading the tenant: %w", err)}
	}
	defer func() {
		if err := rec.Patch(ctx); err != nil && r.Err == nil {
			r.Err = err
		}
	}()
	// Rendered again rather than kept from the pass: an agent of thousands of tenants holds
	// no rendered objects between passes.
	objs, err := plan.Rerender(a.applied.pass(), d.tenant, rec.Old)
	if err != nil || objs == nil { // nil: not what the status records; the next pass applies it
		return Drift{Tenant: d.tenant.Name, Err: err}
	}
	return a.correctDrift(ctx, rec, d, objs, plan.CorrectsDrift(a.opts.DetectOnly, d.tenant))
}

// correctDrift diffs a tenant's desired objects against the live state with a server-side
// dry-run, corrects drift when correct, and records it in rec, as an Event and an alert.
func (a *Agent) correctDrift(ctx context.Context, rec *status.Record, d *desired, desiredObjs []*unstructured.Unstructured, correct bool) Drift {
	objs, changes, err := a.apply.Drift(ctx, desiredObjs)
	r := Drift{Tenant: d.tenant.Name, Objects: objs, Changes: changes, Err: err}
	if r.Err != nil || len(r.Objects) == 0 {
		if r.Err == nil {
			a.applied.seen(d.tenant.Name, "")
		}
		return r
	}
	if r.Corrected = correct; r.Corrected {
		// A namespace that is no longer the tenant's (deleted and recreated by someone
		// else, or its labels taken back) is never re-adopted by a correction.
		if err := a.reclaim(ctx, d.tenant); err != nil {
			r.Corrected, r.Err = false, fmt.Errorf("not correcting drift: %w", err)
		} else if _, err := a.apply.Apply(ctx, desiredObjs); err != nil {
			r.Corrected, r.Err = false, fmt.Errorf("correcting drift: %w", err)
		}
	}
	a.opts.Metrics.observeDrift(d.tenant.Name, r.Corrected)
	// Uncorrected drift stays until someone acts: report it once, not on every check.
	if sig := fmt.Sprint(r.Objects); r.Corrected || a.applied.seen(d.tenant.Name, sig) != sig {
		a.recordDrift(ctx, rec, d, r)
	}
	return r
}

// reclaim checks, before a drift correction, that the tenant's namespace is still its own
// (plan.Claim, without defaults.yaml's adoptions), and re-claims it when it is marked orphaned.
func (a *Agent) reclaim(ctx context.Context, t *v1alpha1.Tenant) error {
	ns, refusal := plan.Claim(ctx, a.apply, t, nil, a.opts.ProtectedNamespaces)
	switch {
	case refusal != nil:
		return refusal.Err
	case ns != nil:
		return a.apply.Reclaim(ctx, ns)
	}
	return nil
}

// recordDrift puts the drift in the status record, emits an event and alerts.
func (a *Agent) recordDrift(ctx context.Context, rec *status.Record, d *desired, r Drift) {
	log := logr.FromContextOrDiscard(ctx).WithValues("tenant", r.Tenant)
	action, reason := "detected (detect-only)", v1alpha1.ReasonDriftDetected
	if r.Corrected {
		action, reason = "corrected", v1alpha1.ReasonDriftCorrected
	}
	status.SetDrift(rec.New, d.revision, r.Objects, r.Corrected)
	var lines []string
	diffs := make([]notify.ObjectDiff, 0, len(r.Objects))
	for _, o := range r.Objects {
		lines = append(lines, o.Object+": "+strings.Join(o.Fields, ", "))
		diffs = append(diffs, notify.ObjectDiff{Object: o.Object, Fields: o.Fields, Changes: r.Changes[o.Object],
			Secret: strings.HasPrefix(o.Object, "Secret/")})
	}
	log.Info("drift "+action, "objects", lines)
	a.recorder.Eventf(rec.Live, corev1.EventTypeWarning, reason, "drift %s:\n%s", action, strings.Join(lines, "\n"))
	a.alerts.send(ctx, notify.Event{Kind: notify.KindDrift, Tenant: r.Tenant, Revision: d.revision,
		Message: "drift " + action, Objects: diffs, Corrected: r.Corrected})
}

// desired is what a tenant was last applied as: its file and content revision; the drift
// check renders its objects again with the pass's options.
type desired struct {
	tenant   *v1alpha1.Tenant
	revision string
}

// appliedSet is what each tenant was last applied as, for the drift check, with the last
// pass's decision inputs, and the drift last reported per tenant, so uncorrected drift is
// reported once.
type appliedSet struct {
	mu        sync.Mutex
	byTenant  map[string]*desired
	last      *plan.Pass
	driftSeen map[string]string
}

func newAppliedSet() *appliedSet {
	return &appliedSet{byTenant: map[string]*desired{}, driftSeen: map[string]string{}}
}

func (s *appliedSet) remember(t *v1alpha1.Tenant, rev string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byTenant[t.Name] = &desired{tenant: t, revision: rev}
}

// setPass records the inputs of the pass that is applying tenants; pass returns them.
func (s *appliedSet) setPass(p *plan.Pass) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = p
}

func (s *appliedSet) pass() *plan.Pass {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *appliedSet) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byTenant, name)
}

// all returns every remembered tenant, sorted by name.
func (s *appliedSet) all() []*desired {
	s.mu.Lock()
	out := make([]*desired, 0, len(s.byTenant))
	for _, d := range s.byTenant {
		out = append(out, d)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].tenant.Name < out[j].tenant.Name })
	return out
}

// seen stores the drift signature last reported for a tenant and returns the previous one.
func (s *appliedSet) seen(tenant, sig string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.driftSeen[tenant]
	s.driftSeen[tenant] = sig
	return prev
}
