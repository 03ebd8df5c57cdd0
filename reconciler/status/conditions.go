package status

import (
	"fmt"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// SetReady records the outcome of a reconcile as kstatus conditions.
func SetReady(st *v1alpha1.TenantStatus, ready bool, reason, msg string) {
	readyStatus, stalled := metav1.ConditionTrue, metav1.ConditionFalse
	if !ready {
		readyStatus, stalled = metav1.ConditionFalse, metav1.ConditionTrue
	}
	apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: readyStatus, Reason: reason, Message: msg})
	apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1alpha1.ConditionStalled, Status: stalled, Reason: reason, Message: msg})
	apimeta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionReconciling)
}

// SetApplied records that the tenant applied (or confirmed) revision rev and is Ready.
func SetApplied(st *v1alpha1.TenantStatus, rev string) {
	st.LastAppliedRevision = rev
	SetReady(st, true, v1alpha1.ReasonSucceeded, "Applied revision: "+rev)
}

// SetPaused records a paused tenant: Ready keeps its status unless it was False.
func SetPaused(st *v1alpha1.TenantStatus) {
	ready := metav1.ConditionUnknown
	for _, c := range st.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			ready = c.Status
		}
	}
	SetReady(st, ready != metav1.ConditionFalse, v1alpha1.ReasonPaused, "Reconciliation is paused by spec.paused")
}

// MarkControlPlaneNotReady records that the control plane is not ready, when it is reported.
func MarkControlPlaneNotReady(st *v1alpha1.TenantStatus) {
	if st.ControlPlane != nil {
		st.ControlPlane.Ready = false
	}
}

// SetDrift records the drift found at rev, corrected or only detected.
func SetDrift(st *v1alpha1.TenantStatus, rev string, objects []v1alpha1.DriftObject, corrected bool) {
	action := "detected (detect-only)"
	if corrected {
		action = "corrected"
	}
	st.LastDrift = &v1alpha1.DriftRecord{Time: metav1.NewTime(time.Now().UTC().Truncate(time.Second)),
		Summary: fmt.Sprintf("%d object(s) %s", len(objects), action), Revision: rev, Objects: objects, Corrected: corrected}
}
