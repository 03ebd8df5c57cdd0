package status

import (
	"context"
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &statusWriter{}
			rec := newRecord(recordingClient{w: w}, "team-a", nil, &v1alpha1.TenantStatus{LastAttemptedRevision: "r1"})
			tt.change(rec.New)
			if err := rec.Patch(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(w.patches) != len(tt.want) || (len(tt.want) > 0 && w.patches[0] != tt.want[0]) {
				t.Errorf("patches %q, want %q", w.patches, tt.want)
			}
			if rec.Old.LastAttemptedRevision != "r1" {
				t.Errorf("Old changed with New: %+v", rec.Old)
			}
		})
	}
}
