package cli

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestStatusRows(t *testing.T) {
	rev := "main@sha1:0123456789abcdef0123456789abcdef01234567"
	tenant := func(name string, mutate func(*v1alpha1.Tenant)) *v1alpha1.Tenant {
		tn := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}}
		mutate(tn)
		return tn
	}
	tests := []struct {
		name   string
		tenant *v1alpha1.Tenant
		want   string // the row, fields joined by single spaces
	}{
		{
			name: "ready, ingress",
			tenant: tenant("a", func(tn *v1alpha1.Tenant) {
				tn.Spec.Expose = v1alpha1.Expose{Type: "Ingress", Host: "a.example.com"}
				tn.Spec.Persistence.Size = new(resource.MustParse("5Gi"))
				tn.Status.LastAppliedRevision = rev
				tn.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSucceeded, Message: "Applied revision: " + rev}}
			}),
			want: "a True main@sha1:0123456789ab - Ingress a.example.com false cpu 200m, memory 512Mi, 5Gi volume Applied revision: " + rev,
		},
		{
			name: "drift, multi-line failure",
			tenant: tenant("b", func(tn *v1alpha1.Tenant) {
				tn.Spec.Expose.Type = "NodePort"
				tn.Status.LastDrift = &v1alpha1.DriftRecord{Summary: "1 object(s) corrected"}
				tn.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Message: "line one\nline two\nline three"}}
			}),
			want: "b False - 1 object(s) corrected NodePort false cpu 200m, memory 512Mi line one (+2 more line(s))",
		},
		{
			name:   "no status, no expose",
			tenant: tenant("c", func(tn *v1alpha1.Tenant) { tn.Spec.Paused = true }),
			want:   "c Unknown - - - true none (paused) -",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := writeStatus(&out, []tenantStatus{statusRow(tt.tenant, tt.tenant.Status.LastAppliedRevision)}, "table"); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME READY REVISION DRIFT ENDPOINT PAUSED CONTROL PLANE MESSAGE" {
				t.Fatalf("table:\n%s", out.String())
			}
			if got := strings.Join(strings.Fields(lines[1]), " "); got != tt.want {
				t.Fatalf("row %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStatusRejectsUnknownOutput(t *testing.T) {
	out, code := runCLI("status", "-o", "wide")
	if code == 0 || !strings.Contains(out, `unknown output "wide"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
