package status

import (
	"context"
	"strings"
	"testing"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestConditions(t *testing.T) {
	ready := func(st *v1alpha1.TenantStatus) (metav1.ConditionStatus, metav1.ConditionStatus, string) {
		r := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
		s := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionStalled)
		return r.Status, s.Status, r.Reason
	}
	tests := []struct {
		name                 string
		set                  func(*v1alpha1.TenantStatus)
		wantReady, wantStall metav1.ConditionStatus
		wantReason           string
	}{
		{name: "applied", set: func(st *v1alpha1.TenantStatus) { SetApplied(st, "main@sha1:1") },
			wantReady: metav1.ConditionTrue, wantStall: metav1.ConditionFalse, wantReason: v1alpha1.ReasonSucceeded},
		{name: "failed", set: func(st *v1alpha1.TenantStatus) { SetReady(st, false, v1alpha1.ReasonHealthFailed, "down") },
			wantReady: metav1.ConditionFalse, wantStall: metav1.ConditionTrue, wantReason: v1alpha1.ReasonHealthFailed},
		{name: "paused while Ready stays Ready", set: func(st *v1alpha1.TenantStatus) { SetApplied(st, "r"); SetPaused(st) },
			wantReady: metav1.ConditionTrue, wantStall: metav1.ConditionFalse, wantReason: v1alpha1.ReasonPaused},
		{name: "paused while failed stays not Ready", set: func(st *v1alpha1.TenantStatus) { SetReady(st, false, "X", "x"); SetPaused(st) },
			wantReady: metav1.ConditionFalse, wantStall: metav1.ConditionTrue, wantReason: v1alpha1.ReasonPaused},
		{name: "paused before any pass", set: SetPaused,
			wantReady: metav1.ConditionTrue, wantStall: metav1.ConditionFalse, wantReason: v1alpha1.ReasonPaused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &v1alpha1.TenantStatus{Conditions: []metav1.Condition{{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue}}}
			tt.set(st)
			r, s, reason := ready(st)
			if r != tt.wantReady || s != tt.wantStall || reason != tt.wantReason {
				t.Errorf("Ready %s, Stalled %s, reason %s; want %s, %s, %s", r, s, reason, tt.wantReady, tt.wantStall, tt.wantReason)
			}
			if apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReconciling) != nil {
				t.Error("Reconciling was kept")
			}
		})
	}
}

// statusWriter records status patches.
type statusWriter struct {
	client.SubResourceWriter
	patches []string
}

func (w *statusWriter) Patch(_ context.Context, obj client.Object, patch client.Patch, _ ...client.SubResourcePatchOption) error {
	data, err := patch.Data(obj)
	w.patches = append(w.patches, obj.GetName()+" "+string(data))
	return err
}

type recordingClient struct {
	client.Client
	w *statusWriter
}

func (c recordingClient) Status() client.SubResourceWriter { return c.w }

// TestRecordPatchesOnlyChanges: a pass writes a Tenant's status once, and not at all when
// nothing changed (nil and empty compare equal).
func TestRecordPatchesOnlyChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(*v1alpha1.TenantStatus)
		want   []string
	}{
		{name: "unchanged", change: func(*v1alpha1.TenantStatus) {}},
		{name: "nil and empty inventory are equal", change: func(st *v1alpha1.TenantStatus) { st.Inventory = []v1alpha1.ObjectRef{} }},
		{name: "a new revision", change: func(st *v1alpha1.TenantStatus) { st.LastAttemptedRevision = "r2" },
			want: []string{`team-a {"status":{"lastAttemptedRevision":"r2"}}`}},
	}
	tests = append(tests, revisionOnlyCases...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &statusWriter{}
			old := &v1alpha1.TenantStatus{LastAttemptedRevision: "r1"}
			if strings.HasPrefix(tt.name, "ready:") {
				old = readyAt("r1")
			}
			rec := newRecord(recordingClient{w: w}, "team-a", nil, old)
			tt.change(rec.New)
			if err := rec.Patch(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(w.patches) != len(tt.want) || (len(tt.want) > 0 && !strings.HasPrefix(w.patches[0], tt.want[0])) {
				t.Errorf("patches %q, want %q", w.patches, tt.want)
			}
			if rec.Old.LastAttemptedRevision != "r1" {
				t.Errorf("Old changed with New: %+v", rec.Old)
			}
		})
	}
}

// readyAt is the status of a tenant that applied rev and is Ready.
func readyAt(rev string) *v1alpha1.TenantStatus {
	st := &v1alpha1.TenantStatus{LastAttemptedRevision: rev, ContentRevision: "r0", ContentDigest: "d0"}
	SetApplied(st, rev)
	return st
}

// revisionOnlyCases start from a Ready tenant at r1 ("ready:"): a new pass revision alone
// is not written (the agent's record carries it); any change of the tenant's own is.
var revisionOnlyCases = []struct {
	name   string
	change func(*v1alpha1.TenantStatus)
	want   []string
}{
	{name: "ready: a new revision that changed nothing of the tenant", change: func(st *v1alpha1.TenantStatus) {
		st.LastAttemptedRevision = "r2"
		SetApplied(st, "r2")
	}},
	{name: "ready: a new revision that changed its objects", change: func(st *v1alpha1.TenantStatus) {
		st.LastAttemptedRevision, st.ContentRevision, st.ContentDigest = "r2", "r2", "d2"
		SetApplied(st, "r2")
	}, want: []string{"team-a "}},
	{name: "ready: failing at a new revision", change: func(st *v1alpha1.TenantStatus) {
		st.LastAttemptedRevision = "r2"
		SetReady(st, false, v1alpha1.ReasonHealthFailed, "down")
	}, want: []string{"team-a "}},
}

func TestAppliedRevision(t *testing.T) {
	failed := readyAt("r1")
	SetReady(failed, false, v1alpha1.ReasonHealthFailed, "down")
	paused := readyAt("r1")
	SetPaused(paused)
	tests := []struct {
		name     string
		st       *v1alpha1.TenantStatus
		agentRev string
		want     string
	}{
		{"ready: every later pass the agent completed", readyAt("r1"), "r5", "r5"},
		{"ready, no agent record", readyAt("r1"), "", "r1"},
		{"failed keeps its own", failed, "r5", "r1"},
		{"paused keeps its own", paused, "r5", "r1"},
		{"never applied", &v1alpha1.TenantStatus{}, "r5", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppliedRevision(*tt.st, tt.agentRev); got != tt.want {
				t.Errorf("AppliedRevision = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStatusPatchClearsWhatIsGone: a merge patch of the new status alone would keep a field
// the new status dropped (omitempty); the patch from old to new nulls it.
func TestStatusPatchClearsWhatIsGone(t *testing.T) {
	old := &v1alpha1.TenantStatus{ControlPlane: &v1alpha1.ControlPlaneStatus{Ready: true, ExternalEndpoint: "https://10.0.0.1:30443"}}
	updated := &v1alpha1.TenantStatus{ControlPlane: &v1alpha1.ControlPlaneStatus{Ready: true}}
	patch, err := statusPatch(old, updated)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(patch), `{"status":{"controlPlane":{"externalEndpoint":null}}}`; got != want {
		t.Fatalf("patch %s, want %s", got, want)
	}
	if patch, _ := statusPatch(old, old); string(patch) != "{}" {
		t.Fatalf("patch of an unchanged status %s, want {}", patch)
	}
}
