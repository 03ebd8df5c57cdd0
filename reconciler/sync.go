package reconciler

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
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

// Sync reconciles every tenant of the checkout at dir, at revision rev. Pruning, of
// objects or whole tenants, is held back when the checkout is empty or any file fails.
func (a *Agent) Sync(ctx context.Context, dir, rev string) (*Result, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("revision", rev)
	ctx = logr.NewContext(ctx, log)
	repo, err := loader.Load(dir)
	if err != nil {
		why := fmt.Sprintf("the tenants repo does not load: %v", err)
		a.holdBack(ctx, rev, why)
		return &Result{Revision: rev, HeldBack: why}, fmt.Errorf("loading the tenants repo at %s: %w", rev, err)
	}
	res := &Result{Revision: rev, Invalid: repo.Failed, HeldBack: holdReason(repo)}
	if err := a.resolveServiceCIDR(ctx); err != nil {
		return res, err
	}
	a.refreshHostAPI(ctx)
	live, err := a.listManaged(ctx)
	if err != nil {
		return res, err
	}
	if err := a.ApplyGuards(ctx); err != nil { // fail closed: no tenant is applied unguarded
		return res, err
	}
	ps := &passState{live: live, policies: a.applyTemplates(ctx, repo), defaults: repo.Defaults}
	res.Tenants = a.reconcileAll(ctx, repo.Tenants, rev, res.HeldBack == "", ps)
	for _, f := range repo.Failed {
		log.Info("invalid tenant file", "path", f.Path, "error", f.Errors.Error())
		a.markInvalid(ctx, f, rev)
	}
	removed, why, err := a.removeTenants(ctx, repo, rev, res.HeldBack == "")
	res.Removed = removed
	if why != "" {
		res.HeldBack = why
	}
	if res.HeldBack != "" {
		a.holdBack(ctx, rev, res.HeldBack)
	}
	a.opts.Metrics.setTenants(conditionCounts(repo.Tenants, res))
	return res, err
}

func holdReason(repo *loader.Repo) string {
	switch {
	case repo.Files == 0:
		return "the checkout has no tenant files"
	case len(repo.Failed) > 0:
		return fmt.Sprintf("%d tenant file(s) failed validation", len(repo.Failed))
	}
	return ""
}

// reconcileAll reconciles tenants concurrently with a bounded number of workers.
func (a *Agent) reconcileAll(ctx context.Context, tenants []*v1alpha1.Tenant, rev string, prune bool, ps *passState) []TenantResult {
	out := make([]TenantResult, len(tenants))
	sem := make(chan struct{}, a.opts.Workers)
	var wg sync.WaitGroup
	for i, t := range tenants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			began := time.Now()
			out[i] = a.reconcileTenant(ctx, t, rev, prune, ps)
			a.opts.Metrics.observeReconcile(t.Name, outcomeOf(t.Spec.Paused, out[i]), time.Since(began), time.Now())
			if out[i].Err != nil {
				logr.FromContextOrDiscard(ctx).Error(out[i].Err, "tenant failed", "tenant", t.Name)
			}
		}()
	}
	wg.Wait()
	return out
}

// markInvalid records a tenant file that failed validation as Stalled, leaving its
// live objects and spec alone.
func (a *Agent) markInvalid(ctx context.Context, f loader.FailedTenant, rev string) {
	live, old, exists, err := a.getTenant(ctx, f.Name)
	if err == nil && !exists {
		stub := &v1alpha1.Tenant{}
		stub.Name = f.Name
		if live, err = a.mirrorObject(stub); err == nil {
			err = a.client.Create(ctx, live)
		}
	}
	if err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "recording an invalid tenant", "tenant", f.Name)
		return
	}
	st := copyStatus(old)
	st.LastAttemptedRevision, st.SourcePath = rev, f.Path
	a.fail(ctx, live, old, st, rev, v1alpha1.ReasonInvalid, f.Errors, TenantResult{Name: f.Name})
}

// removeTenants removes host Tenants whose files left the repo, by their deletion
// policy. It returns why it held back, if it did.
func (a *Agent) removeTenants(ctx context.Context, repo *loader.Repo, rev string, allowed bool) ([]string, string, error) {
	gone, total, err := a.departed(ctx, repo)
	if err != nil || len(gone) == 0 {
		return nil, "", err
	}
	if !allowed {
		return nil, "", nil
	}
	if limit := a.deletionLimit(repo, total); len(gone) > limit && !a.opts.AllowMassDeletion {
		return nil, fmt.Sprintf("revision would remove %d of %d tenants, more than the limit of %d (use --allow-mass-deletion)", len(gone), total, limit), nil
	}
	var removed []string
	for _, u := range gone {
		if err := a.removeTenant(ctx, u, rev); err != nil {
			return removed, "", err
		}
		removed = append(removed, u.GetName())
	}
	return removed, "", nil
}

// passState is what one pass shares between its tenants.
type passState struct {
	live     map[string]*unstructured.Unstructured // host Tenants managed by this agent, by name
	policies *policyPhase
	defaults *v1alpha1.TenantDefaults // the repo's defaults.yaml, nil when it has none
}

// listManaged lists the host Tenants managed by this agent instance, by name: one
// request per pass instead of one per tenant.
func (a *Agent) listManaged(ctx context.Context) (map[string]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(TenantGVK.GroupVersion().WithKind("TenantList"))
	if err := a.client.List(ctx, list, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, LabelAgent: a.opts.Instance}); err != nil {
		return nil, fmt.Errorf("listing host tenants: %w", err)
	}
	out := make(map[string]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].GetName()] = &list.Items[i]
	}
	return out, nil
}

// deletionLimit is how many tenants one revision may remove: defaults.yaml's
// maxTenantDeletions or --max-tenant-deletions, raised by --max-deletion-share of total.
func (a *Agent) deletionLimit(repo *loader.Repo, total int) int {
	limit := a.opts.MaxTenantDeletions
	if repo.Defaults != nil && repo.Defaults.Spec.MaxTenantDeletions != nil {
		limit = *repo.Defaults.Spec.MaxTenantDeletions
	}
	return max(limit, int(a.opts.MaxTenantDeletionShare*float64(total)))
}

// departed lists managed host Tenants that no file in the repo declares, and how many
// managed Tenants there are in all.
func (a *Agent) departed(ctx context.Context, repo *loader.Repo) ([]*unstructured.Unstructured, int, error) {
	declared := map[string]bool{}
	for _, t := range repo.Tenants {
		declared[t.Name] = true
	}
	for _, f := range repo.Failed {
		declared[f.Name] = true
	}
	live, err := a.listManaged(ctx)
	if err != nil {
		return nil, 0, err
	}
	var gone []*unstructured.Unstructured
	for name, u := range live {
		if !declared[name] {
			gone = append(gone, u)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].GetName() < gone[j].GetName() })
	return gone, len(live), nil
}

// removeTenant stops managing a tenant. Retain (the default) leaves its namespace, virtual
// cluster and data in place, marked orphaned; Delete removes every inventory object.
func (a *Agent) removeTenant(ctx context.Context, u *unstructured.Unstructured, rev string) error {
	ctx = withTenant(ctx, u.GetName(), "")
	log := logr.FromContextOrDiscard(ctx)
	st, err := statusOf(u)
	if err != nil {
		return err
	}
	policy, _, _ := unstructured.NestedString(u.Object, "spec", "deletionPolicy")
	objs, err := objectsOf(st.Inventory)
	if err != nil {
		return err
	}
	if policy == string(v1alpha1.DeletionDelete) {
		cs, err := a.rm.DeleteAll(ctx, objs, ownedBy(u.GetName()))
		logChanges(ctx, "pruned", cs, err)
		if err != nil {
			return fmt.Errorf("deleting tenant %s: %w", u.GetName(), err)
		}
		log.Info("tenant deleted with its data (deletionPolicy: Delete)")
	} else if err := a.orphan(ctx, objs, rev); err != nil {
		return err
	}
	if err := client.IgnoreNotFound(a.client.Delete(ctx, u)); err != nil {
		return fmt.Errorf("removing Tenant %s: %w", u.GetName(), err)
	}
	a.forget(u.GetName())
	a.opts.Metrics.forgetTenant(u.GetName())
	a.recorder.Eventf(u, corev1.EventTypeNormal, "Removed", "tenant file removed at %s (deletionPolicy %q)", rev, policy)
	a.notify(ctx, notify.Event{Kind: notify.KindPruned, Tenant: u.GetName(), Revision: rev,
		Message: fmt.Sprintf("tenant removed from Git; deletionPolicy %q", policy)})
	return nil
}

// orphan marks a retained tenant's namespaces so admins can find them.
func (a *Agent) orphan(ctx context.Context, objs []*unstructured.Unstructured, rev string) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		render.AnnotationOrphan: fmt.Sprintf("%s at %s", rev, time.Now().UTC().Format(time.RFC3339)),
	}}})
	for _, o := range objs {
		if o.GetKind() != "Namespace" {
			continue
		}
		if err := client.IgnoreNotFound(a.client.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch))); err != nil {
			return fmt.Errorf("marking namespace %s orphaned: %w", o.GetName(), err)
		}
	}
	return nil
}

// holdBack reports, once per revision and reason, that pruning was held back.
func (a *Agent) holdBack(ctx context.Context, rev, why string) {
	logr.FromContextOrDiscard(ctx).Info("pruning held back", "reason", why)
	a.mu.Lock()
	key := rev + "\x00" + why
	seen := a.heldBack == key
	a.heldBack = key
	a.mu.Unlock()
	if !seen {
		a.notify(ctx, notify.Event{Kind: notify.KindHeldBack, Revision: rev, Message: "pruning held back: " + why})
	}
}
