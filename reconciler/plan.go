package reconciler

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/plan"
	"github.com/tenantry/tenantry/reconciler/status"
)

// Plan works out what Sync(ctx, dir, rev) would do, without writing anything: it makes the
// pass's decisions as Sync makes them (plan.Decide, plan.Removals) and presents each
// object with a server-side dry-run apply, with the objects to prune, new tenants, removed
// tenants (by deletion policy, and whether removal would be held back) and invalid files.
// ConstraintTemplates and the shared constraints are dry-run, not applied: a constraint
// whose kind the cluster does not serve yet is reported as created.
func (a *Agent) Plan(ctx context.Context, dir, rev string) (*plan.Plan, error) {
	repo, err := a.files.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading the tenants repo: %w", err)
	}
	ps, shared, err := a.begin(ctx, repo, rev)
	if err != nil {
		return nil, err
	}
	p := &plan.Plan{Revision: rev, HeldBack: ps.HeldBack, Tenants: make([]plan.TenantPlan, len(repo.Tenants)), Invalid: invalidFiles(repo.Failed)}
	for _, t := range append(shared.templates, shared.constraints...) {
		c, err := a.apply.DryRun(ctx, t, nil)
		if err != nil {
			return nil, err
		}
		p.Templates = append(p.Templates, c)
	}
	if ps.listed, err = a.listManagedIfServed(ctx); err != nil {
		return nil, err
	}
	sem := make(chan struct{}, a.opts.Workers)
	var wg sync.WaitGroup
	for i, t := range repo.Tenants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.Tenants[i] = a.planTenant(ctx, t, ps)
		}()
	}
	wg.Wait()
	removed, why := plan.Removals(repo, ps.listed, ps.HeldBack, a.limits)
	for _, r := range removed {
		if r.Err != nil {
			return nil, r.Err
		}
	}
	p.Removed = removed
	if why != "" {
		p.HeldBack = why
	}
	return p, nil
}

func invalidFiles(failed []loader.FailedTenant) []plan.InvalidFile {
	var out []plan.InvalidFile
	for _, f := range failed {
		inv := plan.InvalidFile{Tenant: f.Name, Path: f.Path}
		for _, e := range f.Errors {
			inv.Errors = append(inv.Errors, e.Error())
		}
		out = append(out, inv)
	}
	return out
}

// planTenant reads a tenant's status as Sync's record would hold it, decides as Sync does,
// and presents the decisions: the Tenant mirror, then the objects in apply order with
// their dry-run, then the objects to prune.
func (a *Agent) planTenant(ctx context.Context, t *v1alpha1.Tenant, ps *pass) plan.TenantPlan {
	tp := plan.TenantPlan{Name: t.Name, Source: t.Status.SourcePath, Paused: t.Spec.Paused}
	old, err := a.planMirror(ctx, t, ps.listed[t.Name], &tp)
	if err != nil {
		tp.Error = err.Error()
		return tp
	}
	d := plan.Decide(ctx, a.apply, &ps.Pass, t, old)
	if d.Refusal != nil {
		tp.Error = d.Refusal.Error()
		return tp
	}
	if d.Action == plan.Pause {
		return tp
	}
	newNamespaces := map[string]bool{}
	for _, o := range d.Objects {
		oc, err := a.apply.DryRun(ctx, o, newNamespaces)
		if err != nil {
			tp.Error = err.Error()
			return tp
		}
		if oc.Action != plan.ActionUnchanged {
			oc.Drift = d.Drift()
		}
		tp.Objects = append(tp.Objects, oc)
	}
	prunes, err := a.apply.PrunePreview(ctx, t.Name, d.Stale, d.PruneHeldBack)
	if err == nil {
		err = d.StaleErr
	}
	if err != nil {
		tp.Error = err.Error()
		return tp
	}
	tp.Objects = append(tp.Objects, prunes...)
	return tp
}

// planMirror returns the status the tenant's host Tenant has and presents the Tenant
// mirror: unchanged when this agent's live one (listed) carries its spec and labels, else
// dry-run, and the tenant is new when the host has no such Tenant.
func (a *Agent) planMirror(ctx context.Context, t *v1alpha1.Tenant, listed *unstructured.Unstructured, tp *plan.TenantPlan) (*v1alpha1.TenantStatus, error) {
	mirror, err := status.Mirror(t, a.opts.Instance)
	if err != nil {
		return nil, err
	}
	if listed != nil && status.SameMirror(listed, mirror) {
		tp.Objects = append(tp.Objects, plan.ObjectChange{Object: plan.ObjectName(mirror), Action: plan.ActionUnchanged})
		return status.Of(listed)
	}
	old := &v1alpha1.TenantStatus{}
	exists := false
	if served, err := a.apply.Serves(status.TenantGVK); err != nil {
		return nil, err
	} else if served {
		if _, old, exists, err = status.Get(ctx, a.client, t.Name); err != nil {
			return nil, err
		}
	}
	tp.New = !exists
	mc, err := a.apply.DryRun(ctx, mirror, nil)
	if err != nil {
		return nil, err
	}
	tp.Objects = append(tp.Objects, mc)
	return old, nil
}

// listManagedIfServed lists this agent's host Tenants by name; none when the cluster does
// not serve the Tenant kind yet.
func (a *Agent) listManagedIfServed(ctx context.Context) (map[string]*unstructured.Unstructured, error) {
	served, err := a.apply.Serves(status.TenantGVK)
	if err != nil || !served {
		return nil, err
	}
	return status.ListManaged(ctx, a.client, a.opts.Instance)
}
