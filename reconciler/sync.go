package reconciler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/plan"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/status"
)

// Result is the outcome of one pass over the tenants repo.
type Result struct {
	Revision string
	Tenants  []TenantResult
	// Invalid lists tenant files that failed validation.
	Invalid []loader.FailedTenant
	// Removed lists tenants whose files left the repo and were removed from the host.
	Removed []string
	// HeldBack says why pruning was held back in this pass, if it was.
	HeldBack string
}

// Failed reports whether any tenant failed to validate or reconcile.
func (r *Result) Failed() bool {
	if len(r.Invalid) > 0 {
		return true
	}
	for _, t := range r.Tenants {
		if t.Err != nil {
			return true
		}
	}
	return false
}

// pass is what one pass shares between its tenants: the inputs of their decisions, each
// tenant's input digest, and the host Tenants of this agent instance as the pass found
// them: every one's resourceVersion, and whole ones (listed) when the pass needs most of
// them or removes any; nil otherwise, and each changed tenant is read alone.
type pass struct {
	plan.Pass
	inputs   map[string]string
	versions map[string]string
	listed   map[string]*unstructured.Unstructured
}

// Sync reconciles every tenant of the checkout at dir, at revision rev: per tenant it opens
// the status record, plans (plan.Decide), carries the plan out and writes the status once.
// Pruning, of objects or whole tenants, is held back when the checkout is empty or any
// file fails.
func (a *Agent) Sync(ctx context.Context, dir, rev string) (*Result, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("revision", rev)
	ctx = logr.NewContext(ctx, log)
	repo, err := a.files.Load(dir)
	if err != nil {
		why := fmt.Sprintf("the tenants repo does not load: %v", err)
		a.alerts.holdBack(ctx, rev, why)
		return &Result{Revision: rev, HeldBack: why}, fmt.Errorf("loading the tenants repo at %s: %w", rev, err)
	}
	res := &Result{Revision: rev, Invalid: repo.Failed, HeldBack: plan.HoldReason(repo)}
	ps, shared, err := a.begin(ctx, repo, rev)
	if err != nil {
		return res, err
	}
	a.applied.setPass(&ps.Pass)
	if err := a.listTenants(ctx, repo, ps); err != nil {
		return res, err
	}
	if err := a.ApplyGuards(ctx); err != nil { // fail closed: no tenant is applied unguarded
		return res, err
	}
	if ps.Render.TemplatesErr == nil {
		ps.Render.TemplatesErr = a.apply.ApplyTemplates(ctx, shared.templates)
	}
	if ps.Render.TemplatesErr == nil { // a tenant with policies fails rather than go unenforced
		ps.Render.TemplatesErr = a.apply.ApplyConstraints(ctx, shared.constraints)
	}
	res.Tenants = a.reconcileAll(ctx, repo.Tenants, ps)
	for _, f := range repo.Failed {
		log.Info("invalid tenant file", "path", f.Path, "error", f.Errors.Error())
		a.reconcileInvalid(ctx, f, rev)
	}
	removed, why, err := a.removeTenants(ctx, repo, ps, rev, res.HeldBack)
	res.Removed = removed
	if why != "" {
		res.HeldBack = why
	}
	if res.HeldBack != "" {
		a.alerts.holdBack(ctx, rev, res.HeldBack)
	} else if err == nil && ps.Render.TemplatesErr == nil {
		_, err = a.apply.PruneConstraints(ctx, slices.Sorted(maps.Keys(ps.Render.Templates)), shared.constraints)
	}
	a.opts.Metrics.setTenants(conditionCounts(repo.Tenants, res))
	if err != nil {
		return res, err
	}
	return res, a.record(ctx, rev)
}

// sharedPolicies are what a pass applies before any tenant: the ConstraintTemplates the
// tenants use and their shared constraints, labelled as applied.
type sharedPolicies struct {
	templates, constraints []*unstructured.Unstructured
}

// begin prepares a pass (Sync's or Plan's) over a loaded repo: it learns the host's service
// CIDR and API endpoints and selects the ConstraintTemplates, and returns the inputs of the
// tenants' decisions with the shared policies.
func (a *Agent) begin(ctx context.Context, repo *loader.Repo, rev string) (*pass, sharedPolicies, error) {
	if err := a.host.resolveServiceCIDR(ctx, a.client, a.opts.VirtualClusters); err != nil {
		return nil, sharedPolicies{}, err
	}
	a.host.refresh(ctx, a.client)
	api, serviceCIDR := a.host.snapshot()
	vc := a.opts.VCluster
	vc.ServiceCIDR = serviceCIDR
	byKind, err := render.TemplatesByKind(a.opts.Templates, repo.Policies)
	var shared sharedPolicies
	if err == nil {
		shared = sharedPolicies{templates: render.UsedTemplates(repo.Tenants, byKind, a.opts.Instance),
			constraints: render.SharedConstraints(repo.Tenants, byKind)}
	}
	opts := render.DesiredOptions{HostAPI: api, Templates: byKind, TemplatesErr: err,
		VirtualClusters: a.opts.VirtualClusters, VCluster: vc}
	key, err := plan.RenderKey(opts)
	if err != nil {
		return nil, sharedPolicies{}, err
	}
	return &pass{Pass: plan.Pass{Revision: rev, HeldBack: plan.HoldReason(repo), Defaults: repo.Defaults,
		Render: opts, RenderKey: key,
		DetectOnly: a.opts.DetectOnly, ProtectedNamespaces: a.opts.ProtectedNamespaces}}, shared, nil
}

// reconcileAll reconciles tenants concurrently with a bounded number of workers.
func (a *Agent) reconcileAll(ctx context.Context, tenants []*v1alpha1.Tenant, ps *pass) []TenantResult {
	out := make([]TenantResult, len(tenants))
	sem := make(chan struct{}, a.opts.Workers)
	var wg sync.WaitGroup
	for i, t := range tenants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			began := time.Now()
			out[i] = a.reconcileTenant(ctx, t, ps)
			a.opts.Metrics.observeReconcile(t.Name, outcomeOf(t.Spec.Paused, out[i]), time.Since(began), time.Now())
			if out[i].Err != nil {
				logr.FromContextOrDiscard(ctx).Error(out[i].Err, "tenant failed", "tenant", t.Name)
			}
		}()
	}
	wg.Wait()
	return out
}

// removeTenants removes the host Tenants whose files left the repo, as plan.Removals
// decides, unless the pass holds removals back (heldBack). The pass listed this agent's
// host Tenants whole when any has no file (listTenants): a Tenant the pass created has a
// file, so it is never among the removals. It returns why the removals were held back
// when the deletion limit is the reason.
func (a *Agent) removeTenants(ctx context.Context, repo *loader.Repo, ps *pass, rev, heldBack string) ([]string, string, error) {
	if heldBack != "" || ps.listed == nil {
		return nil, "", nil
	}
	removals, why := plan.Removals(repo, ps.listed, "", a.limits)
	if why != "" {
		return nil, why, nil
	}
	var removed []string
	for _, r := range removals {
		if err := a.removeTenant(ctx, r, rev); err != nil {
			return removed, "", err
		}
		removed = append(removed, r.Name)
	}
	return removed, "", nil
}

// removeTenant stops managing a tenant. Retain (the default) leaves its namespace, virtual
// cluster and data in place, marked orphaned; Delete removes every inventory object.
func (a *Agent) removeTenant(ctx context.Context, r plan.RemovedTenant, rev string) error {
	ctx = withTenant(ctx, r.Name, "")
	if r.Err != nil {
		return r.Err
	}
	if r.DeletionPolicy == string(v1alpha1.DeletionDelete) {
		if _, err := a.apply.Prune(ctx, r.Name, r.Objects); err != nil {
			return fmt.Errorf("deleting tenant %s: %w", r.Name, err)
		}
		logr.FromContextOrDiscard(ctx).Info("tenant deleted with its data (deletionPolicy: Delete)")
	} else if err := a.apply.Orphan(ctx, r.Objects, rev); err != nil {
		return err
	}
	if err := status.Delete(ctx, a.client, r.Live); err != nil {
		return err
	}
	a.applied.forget(r.Name)
	a.memo.forget(r.Name)
	a.opts.Metrics.forgetTenant(r.Name)
	policy, _, _ := unstructured.NestedString(r.Live.Object, "spec", "deletionPolicy")
	a.recorder.Eventf(r.Live, corev1.EventTypeNormal, "Removed", "tenant file removed at %s (deletionPolicy %q)", rev, policy)
	a.alerts.send(ctx, notify.Event{Kind: notify.KindPruned, Tenant: r.Name, Revision: rev,
		Message: fmt.Sprintf("tenant removed from Git; deletionPolicy %q", policy)})
	return nil
}

// listTenants reads this agent's host Tenants for a pass: every one's resourceVersion,
// each valid tenant's input digest, and the whole Tenants in pages when a Tenant has no
// file (a removal needs its status) or more than a page of tenants changed since the
// agent last carried them out; otherwise reconcileTenant reads each changed one alone.
func (a *Agent) listTenants(ctx context.Context, repo *loader.Repo, ps *pass) error {
	var err error
	if ps.versions, err = a.versions.get(ctx, a.client, a.opts.Instance); err != nil {
		return err
	}
	ps.inputs = make(map[string]string, len(repo.Tenants))
	declared := make(map[string]bool, len(repo.Tenants)+len(repo.Failed))
	changed := 0
	for _, t := range repo.Tenants {
		declared[t.Name] = true
		ps.inputs[t.Name], _ = plan.InputKey(ps.RenderKey, t) // "" on error: rendered, and the render says why
		if _, ok := a.memo.unchanged(t.Name, ps.inputs[t.Name], ps.versions[t.Name]); !ok && ps.versions[t.Name] != "" {
			changed++
		}
	}
	for _, f := range repo.Failed {
		declared[f.Name] = true
	}
	departed := false
	for name := range ps.versions {
		departed = departed || !declared[name]
	}
	if departed || changed > status.ListPageSize {
		ps.listed, err = status.ListManaged(ctx, a.client, a.opts.Instance)
	}
	return err
}
