package plan

import (
	"context"
	"errors"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/status"
)

// fakeHost is a Reader over fixed namespaces and StorageClasses that counts its reads.
type fakeHost struct {
	namespaces map[string]*corev1.Namespace
	classes    map[string]bool
	err        error
	reads      int
}

func (h *fakeHost) Namespace(_ context.Context, name string) (*corev1.Namespace, error) {
	h.reads++
	return h.namespaces[name], h.err
}

func (h *fakeHost) StorageClassExists(_ context.Context, name string) (bool, error) {
	h.reads++
	return h.classes[name], h.err
}

func namespace(name string, labels, annotations map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations}}
}

func tenantNamed(name string) *v1alpha1.Tenant {
	t := &v1alpha1.Tenant{}
	t.Name = name
	t.Status.SourcePath = "tenants/" + name + ".yaml"
	return t
}

// applied is the status a tenant has once its plan was carried out and it became Ready.
func applied(t *testing.T, tn *v1alpha1.Tenant) *v1alpha1.TenantStatus {
	t.Helper()
	p := Decide(context.Background(), &fakeHost{}, &Pass{Revision: "main@sha1:1"}, tn, &v1alpha1.TenantStatus{})
	if p.Action != Apply {
		t.Fatalf("first pass: %v %v", p.Action, p.Refusal)
	}
	st := &v1alpha1.TenantStatus{Inventory: p.Inventory(), ContentDigest: p.Content.Digest, ContentRevision: p.Content.Revision}
	status.SetApplied(st, "main@sha1:1")
	return st
}

// TestStampsOnlyWhatChanged: a commit that changes a tenant's quota stamps the quota with
// the new revision and leaves every other object's stamp, so only the quota is rewritten;
// the inventory records the stamps that differ from the content revision.
func TestStampsOnlyWhatChanged(t *testing.T) {
	tn := tenantNamed("team-a")
	tn.Spec.Quota = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
	old := applied(t, tn)
	tn.Spec.Quota = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}
	p := Decide(context.Background(), &fakeHost{}, &Pass{Revision: "main@sha1:2"}, tn, old)
	if p.Action != Apply || p.Content.Revision != "main@sha1:2" {
		t.Fatalf("action %v, content revision %s", p.Action, p.Content.Revision)
	}
	var restamped []string
	for _, o := range p.Objects {
		if o.GetAnnotations()[render.AnnotationCommit] == "main@sha1:2" {
			restamped = append(restamped, o.GetKind())
		}
	}
	if !reflect.DeepEqual(restamped, []string{"ResourceQuota"}) {
		t.Errorf("stamped with the new revision: %v, want the quota only", restamped)
	}
	for _, r := range p.Inventory() {
		kept := r.Revision == "main@sha1:1"
		if r.Digest == "" || kept == (r.ID == "tenant-team-a_tenant-quota__ResourceQuota") {
			t.Errorf("inventory entry %+v", r)
		}
	}
}

func TestDecide(t *testing.T) {
	own := map[string]string{render.LabelTenant: "team-a", render.LabelManagedBy: render.ManagedByValue}
	tests := []struct {
		name    string
		tenant  func(*v1alpha1.Tenant)
		old     func(*testing.T, *v1alpha1.Tenant) *v1alpha1.TenantStatus
		host    *fakeHost
		pass    Pass
		action  Action
		reason  string // of the refusal
		reads   int    // host reads, -1 for any
		reclaim bool
		drift   string
	}{
		{name: "a new tenant is applied", action: Apply, reads: 1},
		{name: "Git did not change a Ready tenant: confirmed without reading the host", old: applied, action: Confirm, reads: 0, drift: DriftCheck},
		{name: "Git changed a Ready tenant: applied", old: applied, tenant: func(tn *v1alpha1.Tenant) {
			tn.Spec.Limits = &v1alpha1.Limits{}
		}, action: Apply, reads: 1},
		{name: "a failed tenant Git did not change has its drift corrected", old: func(t *testing.T, tn *v1alpha1.Tenant) *v1alpha1.TenantStatus {
			st := applied(t, tn)
			status.SetReady(st, false, v1alpha1.ReasonHealthFailed, "down")
			return st
		}, action: CorrectDrift, reads: 1, drift: DriftCorrected},
		{name: "detect-only only detects", pass: Pass{DetectOnly: true}, old: func(t *testing.T, tn *v1alpha1.Tenant) *v1alpha1.TenantStatus {
			st := applied(t, tn)
			status.SetReady(st, false, v1alpha1.ReasonHealthFailed, "down")
			return st
		}, action: DetectDrift, reads: 1, drift: DriftDetectOnly},
		{name: "a resumed tenant is applied", old: func(t *testing.T, tn *v1alpha1.Tenant) *v1alpha1.TenantStatus {
			st := applied(t, tn)
			status.SetPaused(st)
			return st
		}, action: Apply, reads: 1},
		{name: "paused", tenant: func(tn *v1alpha1.Tenant) { tn.Spec.Paused = true }, action: Pause, reads: 1},
		{name: "paused in a protected namespace", tenant: func(tn *v1alpha1.Tenant) { tn.Spec.Paused, tn.Spec.Namespace = true, "kube-system" },
			action: Refuse, reason: v1alpha1.ReasonNamespaceProtected, reads: 0},
		{name: "another tenant's namespace", host: &fakeHost{namespaces: map[string]*corev1.Namespace{
			"tenant-team-a": namespace("tenant-team-a", map[string]string{render.LabelTenant: "team-b", render.LabelManagedBy: render.ManagedByValue}, nil)}},
			action: Refuse, reason: v1alpha1.ReasonNamespaceNotOwned, reads: 1},
		{name: "an adopted namespace", host: &fakeHost{namespaces: map[string]*corev1.Namespace{"tenant-team-a": namespace("tenant-team-a", nil, nil)}},
			pass: Pass{Defaults: &v1alpha1.TenantDefaults{Spec: v1alpha1.DefaultsSpec{
				NamespaceAdoptions: []v1alpha1.NamespaceAdoption{{Namespace: "tenant-team-a", Tenant: "team-a"}}}}},
			action: Apply, reads: 1},
		{name: "its own orphaned namespace is re-claimed", host: &fakeHost{namespaces: map[string]*corev1.Namespace{
			"tenant-team-a": namespace("tenant-team-a", own, map[string]string{render.AnnotationOrphan: "r at t"})}},
			action: Apply, reads: 1, reclaim: true},
		{name: "a namespace that cannot be read", host: &fakeHost{err: errors.New("boom")}, action: Refuse, reason: v1alpha1.ReasonApplyFailed, reads: 1},
		{name: "a version downgrade", pass: Pass{Render: render.DesiredOptions{VirtualClusters: true}},
			tenant: func(tn *v1alpha1.Tenant) { tn.Spec.KubernetesVersion = "v1.36" },
			old: func(*testing.T, *v1alpha1.Tenant) *v1alpha1.TenantStatus {
				return &v1alpha1.TenantStatus{ControlPlane: &v1alpha1.ControlPlaneStatus{Version: "v1.37.2"}}
			}, action: Refuse, reason: v1alpha1.ReasonDowngradeRefused, reads: 0},
		{name: "a missing StorageClass", pass: Pass{Render: render.DesiredOptions{VirtualClusters: true}},
			tenant: func(tn *v1alpha1.Tenant) {
				size := resource.MustParse("1Gi")
				tn.Spec.Persistence = v1alpha1.Persistence{Size: &size, StorageClassName: "fast"}
			}, action: Refuse, reason: v1alpha1.ReasonStorageClassNotFound, reads: 1},
		{name: "templates that cannot be used refuse a tenant with policies", pass: Pass{Render: render.DesiredOptions{TemplatesErr: errors.New("no gatekeeper")}},
			tenant: func(tn *v1alpha1.Tenant) { tn.Spec.Policies = []v1alpha1.Policy{{Template: "K8sBlockNodePort"}} },
			action: Refuse, reason: v1alpha1.ReasonInvalid, reads: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := tenantNamed("team-a")
			old := &v1alpha1.TenantStatus{}
			if tt.old != nil {
				old = tt.old(t, tn)
			}
			if tt.tenant != nil {
				tt.tenant(tn)
			}
			host := tt.host
			if host == nil {
				host = &fakeHost{}
			}
			tt.pass.Revision = "main@sha1:2"
			p := Decide(context.Background(), host, &tt.pass, tn, old)
			if p.Action != tt.action {
				t.Fatalf("action %v, want %v (refusal %v)", p.Action, tt.action, p.Refusal)
			}
			if reason := ""; p.Refusal != nil || tt.reason != "" {
				if p.Refusal != nil {
					reason = p.Refusal.Reason
				}
				if reason != tt.reason {
					t.Fatalf("refusal %v, want reason %s", p.Refusal, tt.reason)
				}
			}
			if host.reads != tt.reads {
				t.Errorf("%d host reads, want %d", host.reads, tt.reads)
			}
			if (p.Reclaim != nil) != tt.reclaim {
				t.Errorf("reclaim %v, want %v", p.Reclaim, tt.reclaim)
			}
			if got := p.Drift(); got != tt.drift {
				t.Errorf("drift %q, want %q", got, tt.drift)
			}
		})
	}
}

// TestDecideContentRevision: a tenant's objects carry the revision at which they last
// changed, not the revision of every pass.
func TestDecideContentRevision(t *testing.T) {
	tn := tenantNamed("team-a")
	old := applied(t, tn)
	status.SetReady(old, false, v1alpha1.ReasonHealthFailed, "down")
	p := Decide(context.Background(), &fakeHost{}, &Pass{Revision: "main@sha1:2"}, tn, old)
	if p.Content.Changed || p.Content.Revision != "main@sha1:1" || p.Objects[0].GetAnnotations()[render.AnnotationCommit] != "main@sha1:1" {
		t.Fatalf("unchanged tenant: content %+v, stamped %v", p.Content, p.Objects[0].GetAnnotations())
	}
	tn.Spec.Limits = &v1alpha1.Limits{}
	p = Decide(context.Background(), &fakeHost{}, &Pass{Revision: "main@sha1:2"}, tn, old)
	if !p.Content.Changed || p.Content.Revision != "main@sha1:2" || p.Content.Digest == old.ContentDigest {
		t.Fatalf("changed tenant: content %+v", p.Content)
	}
}

// TestDecideStale: what left the inventory is pruned, except a namespace the tenant left
// under Retain, which is orphaned with everything in it; held back, nothing is pruned.
func TestDecideStale(t *testing.T) {
	extra := []v1alpha1.ObjectRef{
		{ID: "_tenant-old__Namespace", Version: "v1"},
		{ID: "tenant-old_tenant-quota__ResourceQuota", Version: "v1"},
		{ID: "tenant-team-a_gone__ConfigMap", Version: "v1"},
	}
	tests := []struct {
		name          string
		policy        v1alpha1.DeletionPolicy
		heldBack      string
		orphan, prune []string
	}{
		{name: "retain", orphan: []string{"Namespace/tenant-old"}, prune: []string{"ConfigMap/tenant-team-a/gone"}},
		{name: "delete", policy: v1alpha1.DeletionDelete,
			prune: []string{"Namespace/tenant-old", "ResourceQuota/tenant-old/tenant-quota", "ConfigMap/tenant-team-a/gone"}},
		{name: "held back", heldBack: "1 tenant file(s) failed validation", orphan: []string{"Namespace/tenant-old"}, prune: []string{"ConfigMap/tenant-team-a/gone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := tenantNamed("team-a")
			old := applied(t, tn)
			old.Inventory = append(extra, old.Inventory...)
			tn.Spec.DeletionPolicy = tt.policy
			p := Decide(context.Background(), &fakeHost{}, &Pass{Revision: "main@sha1:2", HeldBack: tt.heldBack}, tn, old)
			if got := objectNames(p.Orphan); !reflect.DeepEqual(got, tt.orphan) {
				t.Errorf("orphan %v, want %v", got, tt.orphan)
			}
			if got := objectNames(p.Prune); !reflect.DeepEqual(got, tt.prune) {
				t.Errorf("prune %v, want %v", got, tt.prune)
			}
			if len(p.Stale) != 3 || p.PruneHeldBack != (tt.heldBack != "") || p.StaleErr != nil {
				t.Errorf("stale %d, held back %v, error %v", len(p.Stale), p.PruneHeldBack, p.StaleErr)
			}
		})
	}
}

func objectNames(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, ObjectName(o))
	}
	return out
}
