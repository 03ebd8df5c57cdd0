package plan

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// Decide makes one tenant's decisions for a pass, from its file, the status it had before
// the pass (old) and what r reads, in this order: a paused tenant is paused (its namespace
// still claimed); then a version downgrade, a missing StorageClass and a render failure are
// refused; a Ready tenant Git did not change is only confirmed; any other is refused a
// namespace that is not its own, or else applied, or has its drift corrected or detected,
// with its stale inventory pruned, orphaned or held back.
func Decide(ctx context.Context, r Reader, pass *Pass, t *v1alpha1.Tenant, old *v1alpha1.TenantStatus) *Tenant {
	p := &Tenant{Name: t.Name, Source: t.Status.SourcePath, Declared: t}
	if t.Spec.Paused {
		if p.claim(ctx, r, pass) {
			p.pause(pass, old)
		}
		return p
	}
	if err := refuseDowngrade(pass.Render.VirtualClusters, t, old); err != nil {
		return p.refuse(v1alpha1.ReasonDowngradeRefused, err)
	}
	if err := refuseMissingStorageClass(ctx, r, pass.Render.VirtualClusters, t); err != nil {
		return p.refuse(v1alpha1.ReasonStorageClassNotFound, err)
	}
	if err := p.render(pass, old); err != nil {
		return p.refuse(v1alpha1.ReasonInvalid, err)
	}
	if !p.Content.Changed && upToDate(old, p.Objects) {
		p.Action, p.Health = Confirm, Health{Workloads: workloads(p.Objects)}
		return p
	}
	if !p.claim(ctx, r, pass) {
		return p
	}
	p.Action = Apply
	if !p.Content.Changed && len(old.Inventory) > 0 && !resumed(old) {
		p.Action = DetectDrift
		if CorrectsDrift(pass.DetectOnly, t) {
			p.Action = CorrectDrift
		}
	}
	p.stale(t, old, pass.HeldBack != "")
	p.Health = Health{Wait: true, Workloads: workloads(p.Objects), Constraints: constraints(p.Objects),
		ControlPlane: pass.Render.VirtualClusters}
	return p
}

// Invalid is the plan of a tenant file that fails validation: its Tenant is marked Stalled
// and its live objects and spec are left alone.
func Invalid(f loader.FailedTenant) *Tenant {
	p := &Tenant{Name: f.Name, Source: f.Path}
	return p.refuse(v1alpha1.ReasonInvalid, f.Errors)
}

// CorrectsDrift reports whether drift of the tenant is corrected, not only reported.
func CorrectsDrift(detectOnly bool, t *v1alpha1.Tenant) bool {
	return !detectOnly && t.Spec.Drift.Mode != v1alpha1.DriftDetectOnly
}

func (p *Tenant) refuse(reason string, err error) *Tenant {
	p.Action, p.Refusal = Refuse, &Refusal{Reason: reason, Err: err}
	return p
}

// claim refuses the tenant a host namespace that is not its own (see Claim) and reports
// whether it may go on.
func (p *Tenant) claim(ctx context.Context, r Reader, pass *Pass) bool {
	reclaim, refusal := Claim(ctx, r, p.Declared, pass.Defaults, pass.ProtectedNamespaces)
	if refusal != nil {
		p.Action, p.Refusal = Refuse, refusal
		return false
	}
	p.Reclaim = reclaim
	return true
}

// pause renders the StatefulSet that a paused tenant's virtual cluster is scaled down with.
func (p *Tenant) pause(pass *Pass, old *v1alpha1.TenantStatus) {
	p.Action = Pause
	if !pass.Render.VirtualClusters {
		return
	}
	objs, err := render.VCluster(p.Declared, pass.Render.VCluster)
	if err != nil {
		p.Refusal = &Refusal{Reason: v1alpha1.ReasonApplyFailed, Err: err}
		return
	}
	sts := findKind(objs, "StatefulSet")
	if sts == nil {
		p.Refusal = &Refusal{Reason: v1alpha1.ReasonApplyFailed, Err: errors.New("the vcluster chart rendered no StatefulSet")}
		return
	}
	render.Label([]*unstructured.Unstructured{sts}, p.Name, p.Source, old.ContentRevision)
	p.Objects = []*unstructured.Unstructured{sts}
}

// Rerender renders a tenant as the pass that last carried it out did, for the drift check:
// its objects labelled and stamped as applied. It returns nil when they are not what old
// records any more (Git or the host changed since): the next pass applies them.
func Rerender(pass *Pass, t *v1alpha1.Tenant, old *v1alpha1.TenantStatus) ([]*unstructured.Unstructured, error) {
	if pass == nil {
		return nil, nil
	}
	p := &Tenant{Name: t.Name, Source: t.Status.SourcePath, Declared: t}
	if err := p.render(pass, old); err != nil || p.Content.Changed {
		return nil, err
	}
	return p.Objects, nil
}

// render renders the desired objects and stamps labels and the content revision: the
// revision at which the rendered objects last changed, so unrelated commits write nothing.
func (p *Tenant) render(pass *Pass, old *v1alpha1.TenantStatus) error {
	objs, err := render.Desired(p.Declared, pass.Render)
	if err != nil {
		return err
	}
	digest, err := digestOf(p.Source, objs)
	if err != nil {
		return err
	}
	c := &Content{Digest: old.ContentDigest, Revision: old.ContentRevision}
	if c.Changed = digest != old.ContentDigest || old.ContentRevision == ""; c.Changed {
		c.Digest, c.Revision = digest, pass.Revision
	}
	p.Objects, p.Content = objs, c
	return p.stamp(old)
}

// stamp labels the objects and stamps each with the revision at which it last changed:
// an object rendered as its inventory entry recorded it keeps that entry's revision, the
// others get the content revision. So a commit that changes a tenant's quota rewrites the
// quota, not every object of the tenant.
func (p *Tenant) stamp(old *v1alpha1.TenantStatus) error {
	before := make(map[string]v1alpha1.ObjectRef, len(old.Inventory))
	for _, r := range old.Inventory {
		before[r.ID] = r
	}
	p.inventory = make([]v1alpha1.ObjectRef, 0, len(p.Objects))
	for _, o := range p.Objects {
		d, err := objectDigest(o)
		if err != nil {
			return err
		}
		ref := objectRef(o)
		rev := p.Content.Revision
		if e, ok := before[ref.ID]; ok && e.Digest == d {
			rev = cmp.Or(e.Revision, old.ContentRevision)
		}
		render.Label([]*unstructured.Unstructured{o}, p.Name, p.Source, rev)
		ref.Digest = d
		if rev != p.Content.Revision {
			ref.Revision = rev
		}
		p.inventory = append(p.inventory, ref)
	}
	sortRefs(p.inventory)
	return nil
}

// stale lists what left the inventory. A namespace the tenant left is kept under
// deletionPolicy Retain (the default), with everything inside it; the rest is pruned.
func (p *Tenant) stale(t *v1alpha1.Tenant, old *v1alpha1.TenantStatus, heldBack bool) {
	p.Stale, p.StaleErr = Stale(old.Inventory, Inventory(p.Objects))
	p.PruneHeldBack = heldBack
	if t.Spec.DeletionPolicy == v1alpha1.DeletionDelete {
		p.Prune = p.Stale
		return
	}
	left := map[string]bool{}
	for _, o := range p.Stale {
		if IsNamespace(o) {
			left[o.GetName()] = true
			p.Orphan = append(p.Orphan, o)
		}
	}
	for _, o := range p.Stale {
		if !IsNamespace(o) && !left[o.GetNamespace()] {
			p.Prune = append(p.Prune, o)
		}
	}
	if len(p.Orphan) == 0 {
		p.Prune = p.Stale
	}
}

// upToDate reports whether a tenant is Ready with exactly these objects in its inventory.
func upToDate(st *v1alpha1.TenantStatus, objs []*unstructured.Unstructured) bool {
	ready := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason == v1alpha1.ReasonPaused {
		return false
	}
	return slices.EqualFunc(Inventory(objs), st.Inventory, func(a, b v1alpha1.ObjectRef) bool {
		return a.ID == b.ID && a.Version == b.Version
	})
}

// resumed reports whether the tenant was paused at the last reconcile.
func resumed(st *v1alpha1.TenantStatus) bool {
	ready := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	return ready != nil && ready.Reason == v1alpha1.ReasonPaused
}

// workloads are the objects whose health is more than their existence: workloads roll
// out, claims bind. The rest of a tenant's objects are healthy once applied.
func workloads(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if gvk.Group == "apps" || (gvk.Group == "" && (gvk.Kind == "Pod" || gvk.Kind == "PersistentVolumeClaim")) {
			out = append(out, o)
		}
	}
	return out
}

func constraints(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetAPIVersion() == render.ConstraintAPIVersion {
			out = append(out, o)
		}
	}
	return out
}

func findKind(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

// objectDigest is a short digest of one rendered object, before its revision stamp: 16
// hex digits, as the inventory records it for every object of every tenant.
func objectDigest(o *unstructured.Unstructured) (string, error) {
	data, err := json.Marshal(o.Object)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", o.GetName(), err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8]), nil
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
