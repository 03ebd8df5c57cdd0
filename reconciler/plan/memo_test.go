package plan

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/status"
)

// TestMemo: a tenant whose inputs did not change since its last full plan is confirmed
// without rendering (no objects in the plan); any change to its file, the render options
// or the status it left renders it again.
func TestMemo(t *testing.T) {
	tests := []struct {
		name   string
		change func(tn *v1alpha1.Tenant, pass *Pass, st *v1alpha1.TenantStatus)
		action Action
		memo   bool // confirmed from the memo, without rendering
	}{
		{name: "nothing changed: confirmed from the memo", change: func(*v1alpha1.Tenant, *Pass, *v1alpha1.TenantStatus) {}, action: Confirm, memo: true},
		{name: "the file changed: rendered and applied", change: func(tn *v1alpha1.Tenant, _ *Pass, _ *v1alpha1.TenantStatus) {
			tn.Spec.Quota = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}
		}, action: Apply},
		{name: "the render options changed but not the objects: rendered, confirmed", change: func(_ *v1alpha1.Tenant, p *Pass, _ *v1alpha1.TenantStatus) {
			p.Render.VCluster.ImageRepository = "elsewhere/vcluster" // no virtual clusters: no object changes
			p.RenderKey = mustRenderKey(t, p.Render)
		}, action: Confirm},
		{name: "the tenant is no longer Ready: rendered, drift corrected", change: func(_ *v1alpha1.Tenant, _ *Pass, st *v1alpha1.TenantStatus) {
			status.SetReady(st, false, v1alpha1.ReasonHealthFailed, "down")
		}, action: CorrectDrift},
		{name: "the recorded content changed: rendered", change: func(_ *v1alpha1.Tenant, _ *Pass, st *v1alpha1.TenantStatus) {
			st.ContentDigest = "sha256:other"
		}, action: Apply},
		{name: "the inventory lost an object: rendered, drift corrected", change: func(_ *v1alpha1.Tenant, _ *Pass, st *v1alpha1.TenantStatus) {
			st.Inventory = st.Inventory[1:]
		}, action: CorrectDrift},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := tenantNamed("team-a")
			tn.Spec.Quota = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
			pass := &Pass{Revision: "main@sha1:1", Memo: NewMemo()}
			pass.RenderKey = mustRenderKey(t, pass.Render)
			first := Decide(context.Background(), &fakeHost{}, pass, tn, &v1alpha1.TenantStatus{})
			if first.Action != Apply || first.Objects == nil {
				t.Fatalf("first pass: %v", first.Action)
			}
			pass.Memo.Remember(first)
			st := &v1alpha1.TenantStatus{Inventory: first.Inventory(), ContentDigest: first.Content.Digest, ContentRevision: first.Content.Revision}
			status.SetApplied(st, "main@sha1:1")

			pass.Revision = "main@sha1:2"
			tt.change(tn, pass, st)
			p := Decide(context.Background(), &fakeHost{}, pass, tn, st)
			if p.Action != tt.action {
				t.Fatalf("action %v (%v), want %v", p.Action, p.Refusal, tt.action)
			}
			if fromMemo := p.Objects == nil; fromMemo != tt.memo {
				t.Errorf("confirmed from the memo: %v, want %v", fromMemo, tt.memo)
			}
			if p.Action == Confirm && p.Content.Revision != "main@sha1:1" {
				t.Errorf("confirmed at content revision %s, want the first", p.Content.Revision)
			}
		})
	}
}

// TestMemoForget: a tenant forgotten (failed, paused, removed) is rendered again.
func TestMemoForget(t *testing.T) {
	tn := tenantNamed("team-a")
	pass := &Pass{Revision: "main@sha1:1", Memo: NewMemo()}
	first := Decide(context.Background(), &fakeHost{}, pass, tn, &v1alpha1.TenantStatus{})
	pass.Memo.Remember(first)
	st := &v1alpha1.TenantStatus{Inventory: first.Inventory(), ContentDigest: first.Content.Digest, ContentRevision: first.Content.Revision}
	status.SetApplied(st, "main@sha1:1")
	pass.Memo.Forget(tn.Name)
	if p := Decide(context.Background(), &fakeHost{}, pass, tn, st); p.Action != Confirm || p.Objects == nil {
		t.Fatalf("after Forget: %v with objects %v, want a rendered Confirm", p.Action, p.Objects != nil)
	}
}

// TestRerender: the drift check's render stamps the objects as the pass applied them, and
// gives nothing when the status records other content.
func TestRerender(t *testing.T) {
	tn := tenantNamed("team-a")
	pass := &Pass{Revision: "main@sha1:1"}
	first := Decide(context.Background(), &fakeHost{}, pass, tn, &v1alpha1.TenantStatus{})
	st := &v1alpha1.TenantStatus{Inventory: first.Inventory(), ContentDigest: first.Content.Digest, ContentRevision: first.Content.Revision}
	objs, err := Rerender(&Pass{Revision: "main@sha1:9"}, tn, st)
	if err != nil || len(objs) != len(first.Objects) {
		t.Fatalf("rerender: %d objects, %v", len(objs), err)
	}
	for i, o := range objs {
		if got, want := o.GetAnnotations()[render.AnnotationCommit], first.Objects[i].GetAnnotations()[render.AnnotationCommit]; got != want {
			t.Errorf("%s stamped %s, applied as %s", o.GetKind(), got, want)
		}
	}
	st.ContentDigest = "sha256:other"
	if objs, err := Rerender(pass, tn, st); err != nil || objs != nil {
		t.Errorf("other content recorded: %d objects, %v; want none", len(objs), err)
	}
}

func mustRenderKey(t *testing.T, o render.DesiredOptions) string {
	t.Helper()
	k, err := RenderKey(o)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
