package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/reconciler/plan"
)

// samplePlan has one of everything the diff output shows.
func samplePlan() *plan.Plan {
	return &plan.Plan{
		Revision: "main@sha1:2222",
		Templates: []plan.ObjectChange{{Object: "ConstraintTemplate/k8sblocknodeport", Action: plan.ActionConfigure,
			Fields: []plan.FieldChange{{Path: "spec.targets[0].rego", Old: "a", New: "b"}}}},
		Tenants: []plan.TenantPlan{
			{Name: "calm", Source: "tenants/calm.yaml", Objects: []plan.ObjectChange{{Object: "Tenant/calm", Action: plan.ActionUnchanged}}},
			{Name: "drifty", Source: "tenants/drifty.yaml", Objects: []plan.ObjectChange{
				{Object: "LimitRange/tenant-drifty/tenant-limits", Action: plan.ActionConfigure, Drift: plan.DriftDetectOnly,
					Fields: []plan.FieldChange{{Path: "spec.limits[0].max.cpu", Old: "2", New: "1"}}},
			}},
			{Name: "fixing", Source: "tenants/fixing.yaml", Objects: []plan.ObjectChange{
				{Object: "NetworkPolicy/tenant-fixing/tenantry-allow-dns", Action: plan.ActionCreate, Drift: plan.DriftCorrected},
				{Object: "LimitRange/tenant-fixing/tenant-limits", Action: plan.ActionDelete, HeldBack: true},
			}},
			{Name: "broken", Source: "tenants/broken.yaml", Error: "dry-run of ResourceQuota/tenant-broken/tenant-quota: denied | by webhook"},
			{Name: "sleepy", Source: "tenants/sleepy.yaml", Paused: true, Objects: []plan.ObjectChange{{Object: "Tenant/sleepy", Action: plan.ActionConfigure,
				Fields: []plan.FieldChange{{Path: "spec.paused", New: true}}}}},
		},
		Removed: []plan.RemovedTenant{{Name: "gone", DeletionPolicy: "Delete", Delete: []string{"Namespace/tenant-gone", "ResourceQuota/tenant-gone/tenant-quota"},
			HeldBack: "1 tenant file(s) failed validation"}},
		Invalid:  []plan.InvalidFile{{Tenant: "bad", Path: "tenants/bad.yaml", Errors: []string{`tenants/bad.yaml:9: spec.quota.cpu: invalid quantity "2o"`}}},
		HeldBack: "1 tenant file(s) failed validation",
	}
}

func TestPlanOutputs(t *testing.T) {
	tests := []struct {
		name, format string
		plan         *plan.Plan
		want         []string
		notWant      []string
	}{
		{
			name: "text", format: "text", plan: samplePlan(),
			want: []string{
				"revision main@sha1:2222\n",
				"\n~ ConstraintTemplates and shared constraints (applied before the tenants)\n    ~ ConstraintTemplate/k8sblocknodeport\n        spec.targets[0].rego: a -> b\n",
				"\n= tenant drifty (tenants/drifty.yaml): no change from this revision, but:\n" +
					"    ~ LimitRange/tenant-drifty/tenant-limits (drift; detect-only: reported, left as is)\n        spec.limits[0].max.cpu: 2 -> 1\n",
				"\n~ tenant fixing (tenants/fixing.yaml)\n    + NetworkPolicy/tenant-fixing/tenantry-allow-dns (drift: deleted on the cluster; recreated)\n" +
					"    - LimitRange/tenant-fixing/tenant-limits (prune held back)\n",
				"\n! tenant broken (tenants/broken.yaml): dry-run of ResourceQuota/tenant-broken/tenant-quota: denied | by webhook\n",
				"\n~ tenant sleepy (tenants/sleepy.yaml) (paused: only the Tenant object is applied)\n    ~ Tenant/sleepy\n        spec.paused: added: true\n",
				"\n- tenant gone: file removed; deletionPolicy Delete: the Tenant and its 2 object(s) are deleted, the namespace and its data included; HELD BACK: 1 tenant file(s) failed validation\n",
				"\n! tenants/bad.yaml is invalid (the agent marks its Tenant Stalled and leaves its objects alone):\n    tenants/bad.yaml:9: spec.quota.cpu: invalid quantity \"2o\"\n",
				"\n! pruning and tenant removal held back: 1 tenant file(s) failed validation\n",
				"\nunchanged: calm\n",
				"\n0 tenant(s) added, 2 changed, 0 removed, 2 unchanged, 1 invalid, 1 failed to plan; objects: 1 to create, 1 to configure, 0 to delete; 1 ConstraintTemplate(s) and shared constraint(s) to apply\n",
			},
		},
		{
			name: "markdown", format: "markdown", plan: samplePlan(),
			want: []string{
				"### tenantry diff for `main@sha1:2222`\n\n0 tenant(s) added, 2 changed",
				"> [!WARNING]\n> Pruning and tenant removal held back: 1 tenant file(s) failed validation\n",
				"#### Invalid files\n\n- `tenants/bad.yaml:9: spec.quota.cpu: invalid quantity \"2o\"`\n",
				"| (templates) | configure | `ConstraintTemplate/k8sblocknodeport` | `spec.targets[0].rego: a -> b` |\n",
				"| `drifty` | configure | `LimitRange/tenant-drifty/tenant-limits` | drift; detect-only: reported, left as is<br>`spec.limits[0].max.cpu: 2 -> 1` |\n",
				"| `broken` | error | `tenants/broken.yaml` | dry-run of ResourceQuota/tenant-broken/tenant-quota: denied \\| by webhook |\n",
				"| `gone` (removed) | remove | `Tenant/gone` | deletionPolicy Delete:",
				"Unchanged: `calm`\n",
			},
		},
		{
			name: "no changes", format: "text",
			plan: &plan.Plan{Revision: "main@sha1:3333", Tenants: samplePlan().Tenants[:1]},
			want: []string{"no changes: the host cluster matches main@sha1:3333 (1 tenant(s))\n"}, notWant: []string{"unchanged:"},
		},
		{
			name: "no changes, markdown", format: "markdown",
			plan: &plan.Plan{Revision: "main@sha1:3333", Tenants: samplePlan().Tenants[:1]},
			want: []string{"No changes: the host cluster matches this revision (1 tenant(s)).\n"}, notWant: []string{"|", "Unchanged"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := planWriters[tt.format](&out, tt.plan); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestPlanJSON(t *testing.T) {
	var out bytes.Buffer
	if err := writePlanJSON(&out, samplePlan()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		plan.Plan
		Changed, Failed bool
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Changed || !got.Failed || len(got.Tenants) != 5 || got.Tenants[1].Objects[0].Drift != plan.DriftDetectOnly ||
		got.Removed[0].HeldBack == "" || got.Invalid[0].Errors[0] == "" {
		t.Fatalf("json:\n%s", out.String())
	}
}

func TestDiffRejectsUnknownOutput(t *testing.T) {
	out, code := runCLI("diff", t.TempDir(), "-o", "yaml")
	if code != 2 || !strings.Contains(out, `unknown output "yaml"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
