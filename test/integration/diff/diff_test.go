package diff_test

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler/plan"
	"github.com/tenantry/tenantry/test/framework"
)

var host *framework.Cluster

func TestMain(m *testing.M) {
	// No kube-controller-manager: these tests do not need it, and the read-only proof wants
	// a cluster where nothing but the command under test sends requests.
	framework.Main(m, localcluster.Options{NoControllerManager: true}, &host)
}

// planOutput is `tenantry diff -o json`.
type planOutput struct {
	plan.Plan
	Changed bool `json:"changed"`
	Failed  bool `json:"failed"`
}

// TestDiff applies a repo with the agent, then checks what `tenantry diff` reports for an
// unchanged repo, for a pull request that changes a quota, adds a tenant and removes one,
// for drift and for a broken file, and that it never writes to the cluster.
func TestDiff(t *testing.T) {
	e := newEnv(t, "diff-test")
	e.Write("d-keep", framework.TenantYAML("d-keep", framework.CPU("2")))
	e.Write("d-quota", framework.TenantYAML("d-quota", framework.CPU("4")))
	e.Write("d-gone", framework.TenantYAML("d-gone", framework.CPU("2")))
	e.Commit("three tenants")
	applied := e.sync()
	grantDiffUser(t)
	proxy := newRecordingProxy(t)
	diff := func(extra ...string) (string, int) {
		// The test's agent runs without virtual clusters, so diff must too.
		return framework.RunCLI(append([]string{"diff", e.Git.Dir, "--kubeconfig", proxy.kubeconfig, "--instance", e.instance, "--virtual-clusters=false"}, extra...)...)
	}

	t.Run("unchanged repo", func(t *testing.T) {
		out, code := diff()
		if code != 0 || !strings.HasPrefix(out, "no changes: the host cluster matches main@sha1:") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
	})

	// The pull request. d-new uses a policy: this cluster has no Gatekeeper, so neither the
	// ConstraintTemplate kind nor the constraint kind is served, and both are "create".
	e.Write("d-quota", framework.TenantYAML("d-quota", framework.CPU("8")))
	e.Write("d-new", framework.TenantYAML("d-new", framework.CPU("1"), framework.Spec("  policies:\n  - template: K8sBlockNodePort")))
	e.Remove("d-gone")
	e.Commit("raise d-quota, add d-new, remove d-gone")

	t.Run("changes, without writing", func(t *testing.T) {
		proxy.take()
		before := e.quiet(t)
		out, code := diff("-o", "json")
		after := scrapeRequests(t)
		requests := proxy.take()
		if code != 1 {
			t.Fatalf("exit %d, want 1:\n%s", code, out)
		}
		var plan planOutput
		if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &plan); err != nil {
			t.Fatalf("json output: %v\n%s", err, out)
		}
		checkPlan(t, &plan.Plan, applied.Revision)
		if !plan.Changed || plan.Failed {
			t.Fatalf("changed %v, failed %v", plan.Changed, plan.Failed)
		}
		checkReadOnly(t, requests, before, after)
	})

	t.Run("text", func(t *testing.T) {
		out, code := diff()
		if code != 1 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		for _, want := range []string{
			"\n~ tenant d-quota (tenants/d-quota.yaml)\n    ~ Tenant/d-quota\n        spec.quota.cpu: 4 -> 8\n" +
				"    ~ ResourceQuota/tenant-d-quota/tenant-quota\n        metadata.annotations[\"tenantry.dev/revision\"]: " + applied.Revision + " -> main@sha1:",
			"        spec.hard.cpu: 4 -> 8\n",
			"\n+ tenant d-new (tenants/d-new.yaml): new\n    + Tenant/d-new\n    + Namespace/tenant-d-new\n",
			"\n~ ConstraintTemplates and shared constraints (applied before the tenants)\n    + ConstraintTemplate/k8sblocknodeport\n" +
				"    + K8sBlockNodePort/tenantry-k8sblocknodeport-",
			"\n- tenant d-gone: file removed; deletionPolicy Retain: the Tenant is removed; its 7 object(s) are kept, namespaces annotated tenantry.dev/orphaned\n",
			"\nunchanged: d-keep\n",
			"1 tenant(s) added, 1 changed, 1 removed, 1 unchanged, 0 invalid; objects: 8 to create, 2 to configure, 0 to delete; 2 ConstraintTemplate(s) and shared constraint(s) to apply\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("markdown", func(t *testing.T) {
		out, code := diff("--output", "markdown")
		if code != 1 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		for _, want := range []string{
			"### tenantry diff for `main@sha1:",
			"| Tenant | Action | Object | Details |\n|---|---|---|---|\n",
			"| `d-quota` | configure | `ResourceQuota/tenant-d-quota/tenant-quota` | `metadata.annotations[\"tenantry.dev/revision\"]: " + applied.Revision,
			"<br>`spec.hard.cpu: 4 -> 8` |\n",
			"| `d-new` (new) | create | `Namespace/tenant-d-new` |  |\n",
			"| `d-gone` (removed) | remove | `Tenant/d-gone` | deletionPolicy Retain:",
			"Unchanged: `d-keep`\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("drift", func(t *testing.T) {
		framework.EditQuota(t, host.Clientset(t), "tenant-d-keep", "99")
		// d-keep is Ready and Git did not change it: Sync leaves live changes to the agent's
		// drift check, so the drift shows but is not this revision's change.
		out, code := diff()
		want := "\n= tenant d-keep (tenants/d-keep.yaml): no change from this revision, but:\n" +
			"    ~ ResourceQuota/tenant-d-keep/tenant-quota (drift; not from this revision: the agent's drift check corrects it)\n" +
			"        spec.hard.pods: 99 -> 10\n"
		if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "1 tenant(s) added, 1 changed, 1 removed, 1 unchanged") {
			t.Fatalf("exit %d, output lacks %q:\n%s", code, want, out)
		}
	})

	t.Run("broken file", func(t *testing.T) {
		e.Write("d-keep", strings.Replace(framework.TenantYAML("d-keep", framework.CPU("2")), `cpu: "2"`, `cpu: "2o"`, 1))
		defer e.Write("d-keep", framework.TenantYAML("d-keep", framework.CPU("2")))
		out, code := diff()
		for _, want := range []string{
			"\n! tenants/d-keep.yaml is invalid (the agent marks its Tenant Stalled and leaves its objects alone):\n    tenants/d-keep.yaml:11: spec.quota.cpu: invalid quantity \"2o\"\n",
			"HELD BACK: 1 tenant file(s) failed validation",
			"\n! pruning and tenant removal held back: 1 tenant file(s) failed validation\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		if code != 2 {
			t.Fatalf("exit %d, want 2:\n%s", code, out)
		}
	})

	t.Run("applied pull request", func(t *testing.T) {
		e.Write("d-new", framework.TenantYAML("d-new", framework.CPU("1")))
		e.Commit("d-new without policies: this cluster has no Gatekeeper")
		e.sync()
		out, code := diff()
		drift := "\n= tenant d-keep (tenants/d-keep.yaml): no change from this revision, but:\n    ~ ResourceQuota/tenant-d-keep/tenant-quota (drift;"
		if code != 0 || !strings.HasPrefix(out, "no changes: the host cluster matches main@sha1:") || !strings.Contains(out, drift) {
			t.Fatalf("exit %d, want 0, no changes and the drift left to the drift check:\n%s", code, out)
		}
		e.checkDrift()
		out, code = diff()
		if code != 0 || !strings.HasPrefix(out, "no changes: the host cluster matches main@sha1:") || strings.Count(out, "\n") != 1 {
			t.Fatalf("exit %d, after the drift check:\n%s", code, out)
		}
		out, code = diff("-o", "markdown")
		if code != 0 || !strings.Contains(out, "No changes: the host cluster matches this revision (3 tenant(s)).") || strings.Contains(out, "|") {
			t.Fatalf("exit %d, markdown:\n%s", code, out)
		}
	})
}

// checkPlan checks that the plan lists exactly the pull request's changes.
func checkPlan(t *testing.T, p *plan.Plan, applied string) {
	t.Helper()
	var names []string
	for _, tp := range p.Tenants {
		names = append(names, tp.Name)
	}
	if !reflect.DeepEqual(names, []string{"d-keep", "d-new", "d-quota"}) {
		t.Fatalf("tenants %v", names)
	}
	for _, o := range p.Tenants[0].Objects {
		if o.Action != plan.ActionUnchanged {
			t.Errorf("d-keep: %+v", o)
		}
	}
	newTenant := p.Tenants[1]
	var created []string
	for _, o := range newTenant.Objects {
		if o.Action == plan.ActionCreate {
			created = append(created, o.Object)
		}
	}
	sort.Strings(created)
	wantCreated := []string{"LimitRange/tenant-d-new/tenant-limits", "Namespace/tenant-d-new",
		"NetworkPolicy/tenant-d-new/tenantry-allow-dns", "NetworkPolicy/tenant-d-new/tenantry-allow-kube-api",
		"NetworkPolicy/tenant-d-new/tenantry-allow-same-namespace", "NetworkPolicy/tenant-d-new/tenantry-default-deny",
		"ResourceQuota/tenant-d-new/tenant-quota", "Tenant/d-new"}
	if !newTenant.New || !reflect.DeepEqual(created, wantCreated) || len(newTenant.Objects) != len(wantCreated) {
		t.Errorf("d-new: new %v, created %v", newTenant.New, created)
	}
	quota := p.Tenants[2]
	changes := map[string][]string{}
	var stamped int
	for _, o := range quota.Objects {
		switch {
		case o.StampOnly:
			stamped++
		case o.Changes():
			for _, f := range o.Fields {
				changes[o.Object] = append(changes[o.Object], f.String())
			}
		}
	}
	rev := `metadata.annotations["tenantry.dev/revision"]: ` + applied + " -> " + p.Revision
	wantChanges := map[string][]string{
		"Tenant/d-quota": {"spec.quota.cpu: 4 -> 8"},
		"ResourceQuota/tenant-d-quota/tenant-quota": {rev, "spec.hard.cpu: 4 -> 8"},
	}
	// Each object keeps the revision at which it last changed: only the quota is stamped anew.
	if quota.New || !reflect.DeepEqual(changes, wantChanges) || stamped != 0 {
		t.Errorf("d-quota: changes %v (want %v), %d re-stamped (want 0)", changes, wantChanges, stamped)
	}
	if len(p.Removed) != 1 || p.Removed[0].Name != "d-gone" || p.Removed[0].DeletionPolicy != "Retain" ||
		len(p.Removed[0].Retain) != 7 || p.Removed[0].HeldBack != "" {
		t.Errorf("removed %+v", p.Removed)
	}
	if len(p.Templates) != 2 || !reflect.DeepEqual(p.Templates[0], plan.ObjectChange{Object: "ConstraintTemplate/k8sblocknodeport", Action: plan.ActionCreate}) ||
		!strings.HasPrefix(p.Templates[1].Object, "K8sBlockNodePort/tenantry-k8sblocknodeport-") || p.Templates[1].Action != plan.ActionCreate ||
		len(p.Invalid) != 0 || p.HeldBack != "" {
		t.Errorf("templates %+v, invalid %+v, held back %q", p.Templates, p.Invalid, p.HeldBack)
	}
}

// checkReadOnly proves that the diff sent no mutating request, two ways:
//
//   - Client side, exactly: the command's kubeconfig points at a proxy in this test that
//     forwards to kube-apiserver as the diff user and records every request. Each request
//     must be a read (GET) or carry dryRun=All, and none may touch Events.
//   - Server side, as a cross-check: kube-apiserver's apiserver_request_total counts every
//     request by verb, resource and dry_run, but not by user. The counters of mutating verbs
//     (POST, PUT, PATCH, APPLY, DELETE, DELETECOLLECTION) with dry_run="" must not move
//     while the diff runs. That holds as proof because nothing else writes meanwhile: the
//     agent was closed after its pass, quiet() waited until each of its requests had been
//     answered (a closed agent sends no more), the cluster runs no controller manager, and
//     kube-apiserver's own lease renewals are left out.
//     The dry-run counters must move, so the check is known to see the diff's requests.
//
// The diff user's RBAC adds a third, coarser fence: it may only get/list/watch, and
// patch/create the kinds tenantry applies (a server-side dry-run apply is authorized as a
// patch, and as a create when it would create the object: RBAC cannot tell a dry-run from
// a write, which is why it is no proof on its own). It has no delete, update, status
// subresource or Events rights, so such writes would fail, and fail the command.
func checkReadOnly(t *testing.T, requests []request, before, after map[string]float64) {
	t.Helper()
	var dryRunsSent int
	for _, r := range requests {
		if strings.Contains(r.Path, "/events") {
			t.Errorf("request on events: %s", r)
		}
		if r.Method == "GET" {
			continue
		}
		if r.Query.Get("dryRun") != "All" {
			t.Errorf("mutating request without dryRun=All: %s", r)
		}
		dryRunsSent++
	}
	if dryRunsSent < 10 {
		t.Errorf("only %d dry-run requests recorded: %v", dryRunsSent, requests)
	}
	wb, wa := writes(before), writes(after)
	for k, v := range wa {
		if wb[k] != v {
			t.Errorf("write counter moved during the diff: %s: %v -> %v", k, wb[k], v)
		}
	}
	db, da := dryRuns(before), dryRuns(after)
	if got := da["APPLY"] - db["APPLY"]; got < float64(dryRunsSent) {
		t.Errorf("apiserver counted %v dry-run applies, the proxy saw %d dry-run requests (before %v, after %v)", got, dryRunsSent, db, da)
	}
	t.Logf("%d requests, %d of them dry-run applies (apiserver: %v more); %d write series checked",
		len(requests), dryRunsSent, da["APPLY"]-db["APPLY"], len(wa))
}

// TestStatus lists host Tenants with `tenantry status`.
func TestStatus(t *testing.T) {
	e := newEnv(t, "status-test")
	e.Write("s-ready", framework.TenantYAML("s-ready", framework.CPU("2"), framework.Spec("  expose:\n    type: NodePort")))
	e.Write("s-paused", framework.TenantYAML("s-paused", framework.CPU("2"), framework.Spec("  paused: true")))
	e.Commit("two tenants")
	res := e.sync()
	short := res.Revision[:len("main@sha1:")+12]
	out, code := framework.RunCLI("status", "--kubeconfig", host.Kubeconfig)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := strings.Split(out, "\n")
	if fields := strings.Fields(lines[0]); !reflect.DeepEqual(fields, []string{"NAME", "READY", "REVISION", "DRIFT", "ENDPOINT", "PAUSED", "CONTROL", "PLANE", "MESSAGE"}) {
		t.Fatalf("header %q", lines[0])
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	if got := rows["s-ready"]; len(got) < 7 || !reflect.DeepEqual(got[:6], []string{"s-ready", "True", short, "-", "NodePort", "false"}) ||
		!strings.HasPrefix(strings.Join(got[6:], " "), "cpu 200m, memory 512Mi") ||
		!strings.HasSuffix(strings.Join(got[6:], " "), " Applied revision: "+res.Revision) {
		t.Errorf("s-ready row %q", got)
	}
	if got := rows["s-paused"]; len(got) < 7 || !reflect.DeepEqual(got[:6], []string{"s-paused", "True", "-", "-", "ClusterIP", "true"}) ||
		strings.Join(got[6:], " ") != "none (paused) Reconciliation is paused by spec.paused" {
		t.Errorf("s-paused row %q", got)
	}

	out, code = framework.RunCLI("status", "--kubeconfig", host.Kubeconfig, "-o", "json")
	var all []struct {
		Name, Ready, Revision, Endpoint string
		Paused                          bool
	}
	if err := json.Unmarshal([]byte(out), &all); code != 0 || err != nil {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	found := 0
	for _, s := range all {
		if s.Name == "s-ready" && s.Ready == "True" && s.Revision == res.Revision && s.Endpoint == "NodePort" && !s.Paused {
			found++
		}
	}
	if found != 1 {
		t.Errorf("json output:\n%s", out)
	}
	out, code = framework.RunCLI("status", "--kubeconfig", host.Kubeconfig, "-o", "yaml")
	if code != 0 || !strings.Contains(out, "  endpoint: NodePort\n") || !strings.Contains(out, "  name: s-ready\n  paused: false\n") {
		t.Errorf("exit %d, yaml output:\n%s", code, out)
	}
	if out, code = framework.RunCLI("status", "--kubeconfig", host.Kubeconfig, "-o", "wide"); code == 0 {
		t.Errorf("unknown output accepted:\n%s", out)
	}
}

// TestHistoryAppliedOnCluster checks `tenantry history --kubeconfig` against what the
// agent applied: an applied change shows the time of its Event, an unapplied one is pending.
func TestHistoryAppliedOnCluster(t *testing.T) {
	e := newEnv(t, "history-test")
	e.Write("h-a", framework.TenantYAML("h-a", framework.CPU("2")))
	e.Commit("add h-a")
	e.sync()
	e.Write("h-a", framework.TenantYAML("h-a", framework.CPU("4")))
	e.Commit("raise h-a")
	raised := e.sync()
	e.Write("h-a", framework.TenantYAML("h-a", framework.CPU("6")))
	e.Commit("raise h-a again")
	var out string
	framework.Eventually(t, 30*time.Second, "the Progressing event of "+raised.Revision, func() (bool, error) {
		var code int
		out, code = framework.RunCLI("history", "h-a", "--repo", e.Git.Dir, "--kubeconfig", host.Kubeconfig)
		return code == 0 && strings.Contains(out, "spec.quota.cpu: 2 -> 4\n      cluster: applied at ") &&
			strings.Contains(out, "tenant h-a added\n      cluster: applied at "), nil
	})
	for _, want := range []string{
		"    raise h-a again\n  tenants/h-a.yaml: tenant h-a modified\n      spec.quota.cpu: 4 -> 6\n      cluster: pending (the cluster is at " + raised.Revision + ")\n",
		"(included in lastAppliedRevision " + raised.Revision + "; the tenant's objects are stamped with this revision)\n",
		"    add h-a\n  tenants/h-a.yaml: tenant h-a added\n      cluster: applied at ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("history lacks %q:\n%s", want, out)
		}
	}
}
