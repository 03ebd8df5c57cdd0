package reconciler

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// Actions of an object in a Plan.
const (
	ActionCreate    = "create"
	ActionConfigure = "configure"
	ActionUnchanged = "unchanged"
	ActionDelete    = "delete"
)

// Kinds of drift in a Plan: see ObjectChange.Drift.
const (
	DriftCorrected  = "corrected"
	DriftCheck      = "drift-check"
	DriftDetectOnly = "detect-only"
)

// Plan is what one Sync of a checkout would do to the host cluster, worked out with reads
// and server-side dry-runs only: Plan never applies, patches, deletes or records events.
type Plan struct {
	// Revision is the revision the plan stamps on changed objects.
	Revision string `json:"revision"`
	// Tenants are the valid tenants of the checkout, sorted by name.
	Tenants []TenantPlan `json:"tenants"`
	// Templates are the ConstraintTemplates the tenants use. The agent applies them
	// before the tenants; the plan only dry-runs them.
	Templates []ObjectChange `json:"templates,omitempty"`
	// Removed are the host Tenants of this agent instance whose files left the repo.
	Removed []RemovedTenant `json:"removed,omitempty"`
	// Invalid are the tenant files that fail validation.
	Invalid []InvalidFile `json:"invalid,omitempty"`
	// HeldBack says why Sync would hold back pruning and tenant removal, if it would.
	HeldBack string `json:"heldBack,omitempty"`
}

// TenantPlan is what a Sync would do to one tenant.
type TenantPlan struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// New is true when the host has no Tenant of this name yet.
	New bool `json:"new,omitempty"`
	// Paused tenants only have their Tenant object applied.
	Paused bool `json:"paused,omitempty"`
	// Objects are the Tenant mirror, then the rendered objects in apply order, then the
	// objects to prune.
	Objects []ObjectChange `json:"objects"`
	// Error is why the tenant cannot be planned (render or dry-run failure).
	Error string `json:"error,omitempty"`
}

// ObjectChange is the planned action on one object.
type ObjectChange struct {
	// Object is "Kind/namespace/name", or "Kind/name" when cluster-scoped.
	Object string `json:"object"`
	Action string `json:"action"`
	// Fields are the changed fields of a configured object, live value first.
	Fields []FieldChange `json:"fields,omitempty"`
	// StampOnly is true when only the tenantry.dev/revision annotation changes: the
	// tenant changed in Git, so all its objects are stamped with the new revision.
	StampOnly bool `json:"stampOnly,omitempty"`
	// Drift is set when Git did not change the object but the live one differs from it:
	// DriftCorrected when this Sync corrects it, DriftCheck when Sync leaves it to the
	// agent's periodic drift check (the tenant is Ready and up to date), DriftDetectOnly
	// when the agent only reports it. Only DriftCorrected counts as a change.
	Drift string `json:"drift,omitempty"`
	// HeldBack is true for a prune that Sync would hold back.
	HeldBack bool `json:"heldBack,omitempty"`
}

// FieldChange is one changed field; Old is nil for an added field, New for a removed one.
type FieldChange struct {
	Path string `json:"path"`
	Old  any    `json:"old,omitempty"`
	New  any    `json:"new,omitempty"`
}

// RemovedTenant is a host Tenant whose file left the repo.
type RemovedTenant struct {
	Name           string `json:"name"`
	DeletionPolicy string `json:"deletionPolicy"`
	// Delete lists the objects deleted with the tenant (deletionPolicy Delete).
	Delete []string `json:"delete,omitempty"`
	// Retain lists the objects left in place (deletionPolicy Retain); namespaces are
	// annotated tenantry.dev/orphaned.
	Retain []string `json:"retain,omitempty"`
	// HeldBack says why the removal would be held back, if it would.
	HeldBack string `json:"heldBack,omitempty"`
}

// InvalidFile is a tenant file that fails validation.
type InvalidFile struct {
	Tenant string `json:"tenant"`
	Path   string `json:"path"`
	// Errors are "file:line: field: message".
	Errors []string `json:"errors"`
}

// Changes reports whether the Sync of the plan's revision changes the object.
func (c ObjectChange) Changes() bool {
	return c.Action != ActionUnchanged && !c.HeldBack && (c.Drift == "" || c.Drift == DriftCorrected)
}

// Changed reports whether a Sync of the checkout would change the cluster.
func (p *Plan) Changed() bool {
	for _, t := range p.Tenants {
		if t.Changed() {
			return true
		}
	}
	for _, o := range p.Templates {
		if o.Changes() {
			return true
		}
	}
	for _, r := range p.Removed {
		if r.HeldBack == "" {
			return true
		}
	}
	return false
}

// Failed reports whether any tenant file is invalid or any tenant could not be planned.
func (p *Plan) Failed() bool {
	if len(p.Invalid) > 0 {
		return true
	}
	for _, t := range p.Tenants {
		if t.Error != "" {
			return true
		}
	}
	return false
}

// Changed reports whether a Sync would change any of the tenant's objects.
func (t *TenantPlan) Changed() bool {
	for _, o := range t.Objects {
		if o.Changes() {
			return true
		}
	}
	return false
}

// Plan works out what Sync(ctx, dir, rev) would do, without writing anything: it loads
// the checkout, renders every valid tenant as reconcileTenant does, and classifies each
// object by a server-side dry-run apply; it lists stale inventory entries to prune, new
// tenants, removed tenants (by deletion policy, and whether removal would be held back)
// and invalid files. ConstraintTemplates are dry-run, not applied: a constraint whose
// kind the cluster does not serve yet is reported as created.
func (a *Agent) Plan(ctx context.Context, dir, rev string) (*Plan, error) {
	repo, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading the tenants repo: %w", err)
	}
	p := &Plan{Revision: rev, HeldBack: holdReason(repo), Tenants: make([]TenantPlan, len(repo.Tenants))}
	if err := a.resolveServiceCIDR(ctx); err != nil {
		return nil, err
	}
	a.refreshHostAPI(ctx)
	for _, f := range repo.Failed {
		inv := InvalidFile{Tenant: f.Name, Path: f.Path}
		for _, e := range f.Errors {
			inv.Errors = append(inv.Errors, e.Error())
		}
		p.Invalid = append(p.Invalid, inv)
	}
	ph, used := a.collectTemplates(repo)
	for _, t := range used {
		c, err := a.planObject(ctx, t, nil)
		if err != nil {
			return nil, err
		}
		p.Templates = append(p.Templates, c)
	}
	managed, err := a.listManagedIfServed(ctx)
	if err != nil {
		return nil, err
	}
	sem := make(chan struct{}, a.opts.Workers)
	var wg sync.WaitGroup
	for i, t := range repo.Tenants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.Tenants[i] = a.planTenant(ctx, t, rev, p.HeldBack == "", &passState{live: managed, policies: ph, defaults: repo.Defaults})
		}()
	}
	wg.Wait()
	removed, why, err := a.planRemovals(ctx, repo, p.HeldBack)
	if err != nil {
		return nil, err
	}
	p.Removed = removed
	if why != "" {
		p.HeldBack = why
	}
	return p, nil
}

// planTenant plans one tenant as reconcileTenant would apply it.
func (a *Agent) planTenant(ctx context.Context, t *v1alpha1.Tenant, rev string, prune bool, ps *passState) TenantPlan {
	tp := TenantPlan{Name: t.Name, Source: t.Status.SourcePath, Paused: t.Spec.Paused}
	fail := func(err error) TenantPlan {
		tp.Error = err.Error()
		return tp
	}
	mirror, err := a.mirrorObject(t)
	if err != nil {
		return fail(err)
	}
	// As ensureMirror: the Tenant is applied unless this agent's live one matches.
	var old *v1alpha1.TenantStatus
	mc := ObjectChange{Object: objectName(mirror), Action: ActionUnchanged}
	if live := ps.live[t.Name]; live != nil && sameMirror(live, mirror) {
		old, err = statusOf(live)
	} else {
		var exists bool
		if old, exists, err = a.liveTenantStatus(ctx, t.Name); err == nil {
			tp.New = !exists
			mc, err = a.planObject(ctx, mirror, nil)
		}
	}
	if err != nil {
		return fail(err)
	}
	tp.Objects = append(tp.Objects, mc)
	if _, refusal, err := a.namespaceRefusal(ctx, t, ps.defaults); err != nil {
		return fail(err)
	} else if refusal != nil {
		return fail(refusal) // as reconcileTenant: nothing would be applied
	}
	if t.Spec.Paused {
		return tp
	}
	st := copyStatus(old)
	objs, gitChanged, err := a.desiredObjects(t, rev, st, ps.policies)
	if err != nil {
		return fail(err)
	}
	// As reconcileTenant: when Git did not change the tenant, differences are drift. Sync
	// leaves the drift of an up-to-date tenant to the drift check; it corrects the others'
	// (converge), unless the agent or the tenant only detects drift.
	drift := ""
	switch {
	case gitChanged || len(old.Inventory) == 0:
	case upToDate(old, objs):
		drift = DriftCheck
	case a.opts.DetectOnly || t.Spec.Drift.Mode == v1alpha1.DriftDetectOnly:
		drift = DriftDetectOnly
	default:
		drift = DriftCorrected
	}
	newNamespaces := map[string]bool{}
	for _, o := range objs {
		oc, err := a.planObject(ctx, o, newNamespaces)
		if err != nil {
			return fail(err)
		}
		if oc.Action != ActionUnchanged {
			oc.Drift = drift
		}
		tp.Objects = append(tp.Objects, oc)
	}
	prunes, err := a.planPrune(ctx, t.Name, old.Inventory, inventoryOf(objs), prune)
	if err != nil {
		return fail(err)
	}
	tp.Objects = append(tp.Objects, prunes...)
	return tp
}

// listManagedIfServed lists this agent's host Tenants by name; none when the cluster does
// not serve the Tenant kind yet.
func (a *Agent) listManagedIfServed(ctx context.Context) (map[string]*unstructured.Unstructured, error) {
	served, err := a.serves(TenantGVK)
	if err != nil || !served {
		return nil, err
	}
	return a.listManaged(ctx)
}

// liveTenantStatus reads the status of a host Tenant; exists is false when there is no
// such Tenant or the cluster does not serve the Tenant kind yet.
func (a *Agent) liveTenantStatus(ctx context.Context, name string) (*v1alpha1.TenantStatus, bool, error) {
	served, err := a.serves(TenantGVK)
	if err != nil || !served {
		return &v1alpha1.TenantStatus{}, false, err
	}
	_, st, exists, err := a.getTenant(ctx, name)
	return st, exists, err
}

// serves reports whether the cluster serves a kind, e.g. whether a CRD is installed.
func (a *Agent) serves(gvk schema.GroupVersionKind) (bool, error) {
	_, err := a.client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	switch {
	case apimeta.IsNoMatchError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("looking up the %s kind: %w", gvk.Kind, err)
	}
	return true, nil
}

// planObject classifies one object by a server-side dry-run apply. Objects of a kind the
// cluster does not serve yet, and objects in namespaces that the plan creates, cannot be
// dry-run: they are reported as created.
func (a *Agent) planObject(ctx context.Context, obj *unstructured.Unstructured, newNamespaces map[string]bool) (ObjectChange, error) {
	c := ObjectChange{Object: objectName(obj), Action: ActionCreate}
	if ns := obj.GetNamespace(); ns != "" && newNamespaces[ns] {
		return c, nil
	}
	served, err := a.serves(obj.GroupVersionKind())
	if err != nil || !served {
		return c, err
	}
	entry, live, merged, err := a.rm.Diff(ctx, obj.DeepCopy(), ssa.DefaultDiffOptions())
	if err != nil {
		return c, fmt.Errorf("dry-run of %s: %w", c.Object, err)
	}
	switch entry.Action {
	case ssa.CreatedAction:
		if obj.GetKind() == "Namespace" && obj.GroupVersionKind().Group == "" && newNamespaces != nil {
			newNamespaces[obj.GetName()] = true
		}
	case ssa.ConfiguredAction:
		c.Action = ActionConfigure
		c.Fields = FieldChanges(live.Object, merged.Object)
		c.StampOnly = len(c.Fields) > 0
		for _, f := range c.Fields {
			c.StampOnly = c.StampOnly && f.Path == revisionAnnotationPath
		}
	default:
		c.Action = ActionUnchanged
	}
	return c, nil
}

var revisionAnnotationPath = "metadata.annotations" + pathKey(render.AnnotationCommit)

// planPrune lists the stale inventory entries that Sync would delete: those still on the
// cluster with this tenant's owner labels.
func (a *Agent) planPrune(ctx context.Context, tenant string, old, current []v1alpha1.ObjectRef, prune bool) ([]ObjectChange, error) {
	objs, err := stale(old, current)
	if err != nil {
		return nil, err
	}
	var out []ObjectChange
	for _, o := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		served, err := a.serves(o.GroupVersionKind())
		if err != nil {
			return nil, err
		}
		if !served {
			continue
		}
		if err := a.client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("reading %s: %w", objectName(o), err)
		}
		labels := live.GetLabels()
		if labels[render.LabelManagedBy] != render.ManagedByValue || labels[render.LabelTenant] != tenant {
			continue
		}
		out = append(out, ObjectChange{Object: objectName(o), Action: ActionDelete, HeldBack: !prune})
	}
	return out, nil
}

// planRemovals lists the host Tenants that Sync would remove, and why the removal would be
// held back. why is set only for a reason that holdReason does not already give.
func (a *Agent) planRemovals(ctx context.Context, repo *loader.Repo, heldBack string) ([]RemovedTenant, string, error) {
	served, err := a.serves(TenantGVK)
	if err != nil || !served {
		return nil, "", err
	}
	gone, total, err := a.departed(ctx, repo)
	if err != nil || len(gone) == 0 {
		return nil, "", err
	}
	var why string
	if limit := a.deletionLimit(repo, total); heldBack == "" && len(gone) > limit && !a.opts.AllowMassDeletion {
		why = fmt.Sprintf("revision would remove %d of %d tenants, more than the limit of %d (use --allow-mass-deletion)", len(gone), total, limit)
	}
	out := make([]RemovedTenant, 0, len(gone))
	for _, u := range gone {
		st, err := statusOf(u)
		if err != nil {
			return nil, "", err
		}
		objs, err := objectsOf(st.Inventory)
		if err != nil {
			return nil, "", err
		}
		r := RemovedTenant{Name: u.GetName(), DeletionPolicy: string(v1alpha1.DeletionRetain), HeldBack: heldBack}
		if why != "" {
			r.HeldBack = why
		}
		if policy, _, _ := unstructured.NestedString(u.Object, "spec", "deletionPolicy"); policy == string(v1alpha1.DeletionDelete) {
			r.DeletionPolicy = policy
		}
		for _, o := range objs {
			if r.DeletionPolicy == string(v1alpha1.DeletionDelete) {
				r.Delete = append(r.Delete, objectName(o))
			} else {
				r.Retain = append(r.Retain, objectName(o))
			}
		}
		out = append(out, r)
	}
	return out, why, nil
}

// FieldChanges lists the fields where merged (what would be applied) differs from live,
// sorted by path. Maps are compared per key and lists of equal length per item; server-set
// metadata and status are ignored, as in drift detection.
func FieldChanges(live, merged map[string]any) []FieldChange {
	var out []FieldChange
	walkChanges("", live, merged, &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func walkChanges(path string, old, cur any, out *[]FieldChange) {
	if ignoredPaths[path] {
		return
	}
	om, oldMap := old.(map[string]any)
	cm, curMap := cur.(map[string]any)
	if oldMap && curMap {
		keys := map[string]bool{}
		for k := range om {
			keys[k] = true
		}
		for k := range cm {
			keys[k] = true
		}
		for k := range keys {
			p := k
			if path != "" {
				p = path + pathKey(k)
			}
			walkChanges(p, om[k], cm[k], out)
		}
		return
	}
	ol, oldList := old.([]any)
	cl, curList := cur.([]any)
	if oldList && curList && len(ol) == len(cl) {
		for i := range ol {
			walkChanges(path+"["+strconv.Itoa(i)+"]", ol[i], cl[i], out)
		}
		return
	}
	if !reflect.DeepEqual(old, cur) {
		*out = append(*out, FieldChange{Path: path, Old: old, New: cur})
	}
}

// pathKey formats a map key as a path segment: ".key", or `["key"]` when the key holds
// dots or slashes, as label and annotation keys do.
func pathKey(k string) string {
	if strings.ContainsAny(k, "./[]") {
		data, _ := json.Marshal(k)
		return "[" + string(data) + "]"
	}
	return "." + k
}

// String formats the change as "path: old -> new", "path: added: new" or
// "path: removed (was old)"; strings print bare, other values as compact JSON.
func (f FieldChange) String() string {
	switch {
	case f.Old == nil:
		return fmt.Sprintf("%s: added: %s", f.Path, fieldValue(f.New))
	case f.New == nil:
		return fmt.Sprintf("%s: removed (was %s)", f.Path, fieldValue(f.Old))
	}
	return fmt.Sprintf("%s: %s -> %s", f.Path, fieldValue(f.Old), fieldValue(f.New))
}

func fieldValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
