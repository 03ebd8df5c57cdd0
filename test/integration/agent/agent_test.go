package agent_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/status"
	"github.com/tenantry/tenantry/test/framework"
)

var host *framework.Cluster

func TestMain(m *testing.M) {
	framework.Main(m, localcluster.Options{}, &host)
}

var ctx = context.Background()

func TestThreeTenantsBecomeReady(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	for _, n := range []string{"ready-a", "ready-b", "ready-c"} {
		e.Write(n, framework.TenantYAML(n))
	}
	res := e.CommitAndSync("three tenants")
	if res.Failed() || res.HeldBack != "" {
		t.Fatalf("pass failed: %+v", res)
	}
	for _, n := range []string{"ready-a", "ready-b", "ready-c"} {
		e.RequireReady(n)
		tn := e.Tenant(n)
		if tn.Status.LastAppliedRevision != res.Revision || !strings.HasPrefix(res.Revision, "main@sha1:") {
			t.Fatalf("%s: lastAppliedRevision %q, pass revision %q", n, tn.Status.LastAppliedRevision, res.Revision)
		}
		if tn.Status.SourcePath != "tenants/"+n+".yaml" || len(tn.Status.Inventory) != 7 {
			t.Fatalf("%s: source %q, inventory %v", n, tn.Status.SourcePath, tn.Status.Inventory)
		}
		ns := "tenant-" + n
		q, err := e.cs.CoreV1().ResourceQuotas(ns).Get(ctx, render.QuotaName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Spec.Hard[corev1.ResourcePods]; got.String() != "10" {
			t.Fatalf("%s quota pods = %s", n, got.String())
		}
		if q.Annotations[render.AnnotationCommit] != res.Revision || q.Annotations[render.AnnotationSource] != "tenants/"+n+".yaml" {
			t.Fatalf("%s quota annotations %v", n, q.Annotations)
		}
		if _, err := e.cs.CoreV1().LimitRanges(ns).Get(ctx, render.LimitRangeName, metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		nps, err := e.cs.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(nps.Items) != 4 {
			t.Fatalf("%s network policies: %d, %v", n, len(nps.Items), err)
		}
		nsObj, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil || nsObj.Labels["pod-security.kubernetes.io/enforce"] != "baseline" || nsObj.Labels[render.LabelTenant] != n {
			t.Fatalf("%s namespace labels %v, %v", n, nsObj.Labels, err)
		}
	}
}

// TestQuotaChangeWritesOnlyThatTenant checks that a commit changing one tenant's quota
// updates it and writes nothing of the other tenants: their objects and their Tenants keep
// their resourceVersion; the agent records the revision once, in its own namespace.
// (The changed tenant's other objects are re-stamped with the new content revision.)
func TestQuotaChangeWritesOnlyThatTenant(t *testing.T) {
	agentNS := host.NewNamespace(t)
	e := newEnv(t, reconciler.Options{RecordNamespace: agentNS})
	names := []string{"chg-a", "chg-b", "chg-c"}
	for _, n := range names {
		e.Write(n, framework.TenantYAML(n))
	}
	e.CommitAndSync("three tenants")
	before := resourceVersions(t, e, names)
	eventsBefore := map[string]int{}
	for _, n := range names {
		eventually(t, "the creation event of "+n, func() (bool, error) { return len(tenantEvents(t, e, n, "Progressing")) == 1, nil })
		eventsBefore[n] = 1
	}
	e.Write("chg-b", framework.TenantYAML("chg-b", framework.Pods("25")))
	res := e.CommitAndSync("raise chg-b's pods quota")
	eventually(t, "a change-set event on chg-b", func() (bool, error) {
		evs := tenantEvents(t, e, "chg-b", "Progressing")
		return len(evs) > eventsBefore["chg-b"] && strings.Contains(evs[len(evs)-1], "ResourceQuota/tenant-chg-b/tenant-quota configured"), nil
	})
	for _, n := range []string{"chg-a", "chg-c"} {
		if got := len(tenantEvents(t, e, n, "Progressing")); got != eventsBefore[n] || got == 0 {
			t.Errorf("%s: %d change-set events, want the %d from creation only", n, got, eventsBefore[n])
		}
	}
	e.RequireReady(names...)
	after := resourceVersions(t, e, names)
	for id, rv := range before {
		changed := after[id] != rv
		switch {
		case id == "chg-b/ResourceQuota" && !changed:
			t.Errorf("%s was not updated", id)
		case !strings.HasPrefix(id, "chg-b/") && changed:
			t.Errorf("%s of an unchanged tenant was written: resourceVersion %s -> %s", id, rv, after[id])
		}
	}
	q, _ := e.cs.CoreV1().ResourceQuotas("tenant-chg-b").Get(ctx, render.QuotaName, metav1.GetOptions{})
	if got := q.Spec.Hard[corev1.ResourcePods]; got.Cmp(resource.MustParse("25")) != 0 || q.Annotations[render.AnnotationCommit] != res.Revision {
		t.Fatalf("quota pods %s, revision %q", got.String(), q.Annotations[render.AnnotationCommit])
	}
	if a := e.Tenant("chg-a"); a.Status.LastAppliedRevision == res.Revision || a.Status.ContentRevision == res.Revision {
		t.Fatalf("chg-a was written: lastApplied %s contentRevision %s", a.Status.LastAppliedRevision, a.Status.ContentRevision)
	}
	if b := e.Tenant("chg-b"); b.Status.LastAppliedRevision != res.Revision || b.Status.ContentRevision != res.Revision {
		t.Fatalf("chg-b: lastApplied %s contentRevision %s, want %s", b.Status.LastAppliedRevision, b.Status.ContentRevision, res.Revision)
	}
	tenants, err := status.ListTenants(ctx, e.Agent.Client())
	if err != nil {
		t.Fatal(err)
	}
	applied := status.AppliedRevisions(ctx, e.Agent.Client(), agentNS, tenants)
	for _, n := range names {
		if applied[n] != res.Revision {
			t.Errorf("%s: applied revision %q, want %s (the agent's record)", n, applied[n], res.Revision)
		}
	}
}

// TestHandEditedTenantRestored: once a pass has carried a tenant out, later passes skip it
// while its inputs and its host Tenant are unchanged (the agent learns the Tenants'
// versions from a watch, not a list). A hand edit of the host Tenant is a change: a
// later pass over the same revision puts the file's spec back, and leaves the
// untouched tenant's Tenant alone.
func TestHandEditedTenantRestored(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	names := []string{"hand-a", "hand-b"}
	for _, n := range names {
		e.Write(n, framework.TenantYAML(n))
	}
	e.CommitAndSync("two tenants")
	e.SyncOK() // the second pass starts the watch; this one learns versions from it
	e.RequireReady(names...)
	untouched := e.Tenant("hand-b").ResourceVersion
	edited := &unstructured.Unstructured{}
	edited.SetGroupVersionKind(status.TenantGVK)
	edited.SetName("hand-a")
	patch := []byte(`{"spec":{"quota":{"pods":"99"}}}`)
	if err := e.Agent.Client().Patch(ctx, edited, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	pods := func() string { q := e.Tenant("hand-a").Spec.Quota[corev1.ResourcePods]; return q.String() }
	if got := pods(); got != "99" {
		t.Fatalf("the hand edit did not land: pods %s", got)
	}
	eventually(t, "a pass restores hand-a's spec", func() (bool, error) {
		e.SyncOK()
		return pods() == "10", nil
	})
	e.RequireReady(names...)
	if rv := e.Tenant("hand-b").ResourceVersion; rv != untouched {
		t.Errorf("hand-b's Tenant was written: resourceVersion %s -> %s", untouched, rv)
	}
}

func resourceVersions(t *testing.T, e *env, names []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		ns := "tenant-" + n
		nsObj, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[n+"/Namespace"] = nsObj.ResourceVersion
		out[n+"/Tenant"] = e.Tenant(n).ResourceVersion
		q, err := e.cs.CoreV1().ResourceQuotas(ns).Get(ctx, render.QuotaName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// status.used is written by the quota controller; compare the spec's generation instead.
		out[n+"/ResourceQuota"] = q.Annotations[render.AnnotationCommit] + "/" + q.Spec.Hard.Pods().String()
		lr, err := e.cs.CoreV1().LimitRanges(ns).Get(ctx, render.LimitRangeName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[n+"/LimitRange"] = lr.ResourceVersion
		nps, err := e.cs.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, np := range nps.Items {
			out[n+"/NetworkPolicy/"+np.Name] = np.ResourceVersion
		}
	}
	return out
}

// TestDriftCorrectedRecordedAndAlerted edits a managed quota as kubectl would, and checks
// the running agent corrects it within the drift interval, records it and alerts once.
func TestDriftCorrectedRecordedAndAlerted(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	e.Write("drift-a", framework.TenantYAML("drift-a"))
	e.Write("drift-watch", framework.TenantYAML("drift-watch", framework.Spec("  drift:\n    mode: DetectOnly")))
	e.CommitAndSync("tenants")
	runCtx, stop := context.WithCancel(logr.NewContext(ctx, testr.New(t)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.Agent.Run(runCtx, e.Source, reconciler.RunOptions{PollInterval: time.Hour, DriftInterval: time.Second})
	}()
	defer func() { stop(); <-done }()
	for _, n := range []string{"drift-a", "drift-watch"} {
		framework.EditQuota(t, e.cs, "tenant-"+n, "99")
	}
	eventually(t, "drift on drift-a corrected", func() (bool, error) {
		q, err := e.cs.CoreV1().ResourceQuotas("tenant-drift-a").Get(ctx, render.QuotaName, metav1.GetOptions{})
		return err == nil && q.Spec.Hard.Pods().String() == "10", err
	})
	eventually(t, "drift recorded on drift-a", func() (bool, error) {
		d := e.Tenant("drift-a").Status.LastDrift
		ok := d != nil && d.Corrected && len(d.Objects) == 1 && d.Objects[0].Object == "ResourceQuota/tenant-drift-a/tenant-quota" &&
			strings.Contains(strings.Join(d.Objects[0].Fields, ","), "spec.hard.pods")
		return ok, fmt.Errorf("last drift %+v", d)
	})
	eventually(t, "a drift alert for drift-a", func() (bool, error) { return len(e.hook.Events(notify.KindDrift, "drift-a")) >= 1, nil })
	alert := e.hook.Events(notify.KindDrift, "drift-a")[0]
	if !alert.Corrected || len(alert.Objects) != 1 {
		t.Fatalf("alert %+v", alert)
	}
	eventually(t, "drift recorded on drift-watch (detect-only)", func() (bool, error) {
		d := e.Tenant("drift-watch").Status.LastDrift
		return d != nil && !d.Corrected, nil
	})
	q, _ := e.cs.CoreV1().ResourceQuotas("tenant-drift-watch").Get(ctx, render.QuotaName, metav1.GetOptions{})
	if q.Spec.Hard.Pods().String() != "99" {
		t.Fatalf("detect-only tenant was corrected: pods=%s", q.Spec.Hard.Pods().String())
	}
}

// TestBrokenFileStallsOnlyItsTenant breaks one tenant file at a time; that tenant is
// Stalled with a file:line error, the others stay Ready, and nothing is pruned.
func TestBrokenFileStallsOnlyItsTenant(t *testing.T) {
	cases := []struct {
		name, body, wantErr string
	}{
		{"bad quantity", strings.Replace(framework.TenantYAML("brk-b"), `cpu: "4"`, `cpu: "2o"`, 1), `tenants/brk-b.yaml:11: spec.quota.cpu: invalid quantity "2o"`},
		{"unknown field", strings.Replace(framework.TenantYAML("brk-b"), "  quota:", "  quotaa:", 1), `tenants/brk-b.yaml:9: spec: unknown field "quotaa"`},
		{"bad yaml", framework.TenantYAML("brk-b") + "\n  : [", "tenants/brk-b.yaml:"},
	}
	e := newEnv(t, reconciler.Options{})
	for _, n := range []string{"brk-a", "brk-b", "brk-c"} {
		e.Write(n, framework.TenantYAML(n))
	}
	e.CommitAndSync("tenants")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.Write("brk-b", tc.body)
			// brk-c drops its limits in the same commit: pruning its LimitRange must wait.
			e.Write("brk-c", strings.Split(framework.TenantYAML("brk-c"), "  limits:")[0])
			res := e.CommitAndSync("break brk-b: " + tc.name)
			if len(res.Invalid) != 1 || !strings.Contains(res.Invalid[0].Errors.Error(), tc.wantErr) {
				t.Fatalf("invalid = %+v, want an error containing %q", res.Invalid, tc.wantErr)
			}
			if res.HeldBack == "" {
				t.Fatal("pruning was not held back")
			}
			ok, msg := e.Ready("brk-b")
			if ok || !strings.Contains(msg, tc.wantErr) {
				t.Fatalf("brk-b ready=%v msg=%q", ok, msg)
			}
			e.RequireReady("brk-a", "brk-c")
			if _, err := e.cs.CoreV1().LimitRanges("tenant-brk-c").Get(ctx, render.LimitRangeName, metav1.GetOptions{}); err != nil {
				t.Fatalf("brk-c's LimitRange was pruned despite a broken file: %v", err)
			}
			if _, err := e.cs.CoreV1().ResourceQuotas("tenant-brk-b").Get(ctx, render.QuotaName, metav1.GetOptions{}); err != nil {
				t.Fatalf("brk-b's quota is gone: %v", err)
			}
		})
	}
	e.Write("brk-b", framework.TenantYAML("brk-b"))
	e.CommitAndSync("fix brk-b")
	e.RequireReady("brk-a", "brk-b", "brk-c")
	if _, err := e.cs.CoreV1().LimitRanges("tenant-brk-c").Get(ctx, render.LimitRangeName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("brk-c's LimitRange not pruned once every file is valid: %v", err)
	}
	eventually(t, "a recovery alert for brk-b", func() (bool, error) { return len(e.hook.Events(notify.KindRecovered, "brk-b")) == 1, nil })
}

// TestDeletedFileFollowsDeletionPolicy removes a Retain and a Delete tenant.
func TestDeletedFileFollowsDeletionPolicy(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	e.Write("del-keep", framework.TenantYAML("del-keep"))
	e.Write("del-gone", framework.TenantYAML("del-gone", framework.Spec("  deletionPolicy: Delete")))
	e.Write("del-other", framework.TenantYAML("del-other"))
	e.CommitAndSync("tenants")

	e.Remove("del-keep")
	res := e.CommitAndSync("remove del-keep")
	if len(res.Removed) != 1 || res.Removed[0] != "del-keep" {
		t.Fatalf("removed %v (held back: %q)", res.Removed, res.HeldBack)
	}
	if e.Tenant("del-keep") != nil {
		t.Fatal("Tenant del-keep still exists")
	}
	ns, err := e.cs.CoreV1().Namespaces().Get(ctx, "tenant-del-keep", metav1.GetOptions{})
	if err != nil || ns.DeletionTimestamp != nil || ns.Annotations[render.AnnotationOrphan] == "" {
		t.Fatalf("retained namespace: %v, %+v", err, ns.ObjectMeta)
	}
	if _, err := e.cs.CoreV1().ResourceQuotas("tenant-del-keep").Get(ctx, render.QuotaName, metav1.GetOptions{}); err != nil {
		t.Fatalf("retained quota: %v", err)
	}

	e.Remove("del-gone")
	res = e.CommitAndSync("remove del-gone")
	if len(res.Removed) != 1 || res.Removed[0] != "del-gone" {
		t.Fatalf("removed %v (held back: %q)", res.Removed, res.HeldBack)
	}
	eventually(t, "namespace tenant-del-gone deleted", func() (bool, error) {
		ns, err := e.cs.CoreV1().Namespaces().Get(ctx, "tenant-del-gone", metav1.GetOptions{})
		return apierrors.IsNotFound(err) || (err == nil && ns.DeletionTimestamp != nil), err
	})
	e.RequireReady("del-other")
}

// TestEmptyCheckoutAndUnreachableGitPruneNothing empties the repo, then makes Git unreachable.
func TestEmptyCheckoutAndUnreachableGitPruneNothing(t *testing.T) {
	e := newEnv(t, reconciler.Options{AllowMassDeletion: true})
	e.Write("empty-a", framework.TenantYAML("empty-a"))
	e.Write("empty-b", framework.TenantYAML("empty-b"))
	first := e.CommitAndSync("tenants")
	e.Remove("empty-a")
	e.Remove("empty-b")
	e.Commit("empty checkout")
	art := e.Fetch(ctx)
	// Git keeps no empty directory: the checkout has no tenants/ at all.
	res, err := e.Agent.Sync(ctx, art.Path, art.Revision)
	if err == nil || !strings.Contains(res.HeldBack, "no tenants/ directory") || len(res.Removed) != 0 {
		t.Fatalf("empty checkout: err %v, held back %q, removed %v", err, res.HeldBack, res.Removed)
	}
	e.WriteFile("tenants/.gitkeep", "")
	res = e.CommitAndSync("an empty tenants/ directory")
	if res.HeldBack != "the checkout has no tenant files" || len(res.Removed) != 0 {
		t.Fatalf("empty tenants/: held back %q, removed %v", res.HeldBack, res.Removed)
	}
	e.RequireReady("empty-a", "empty-b")
	eventually(t, "a held-back alert", func() (bool, error) { return len(e.hook.Events(notify.KindHeldBack, "")) >= 1, nil })

	if err := os.RemoveAll(e.Git.Dir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Source.Fetch(ctx); err == nil {
		t.Fatal("fetch from a removed repo succeeded")
	}
	runCtx, stop := context.WithTimeout(ctx, 3*time.Second)
	defer stop()
	_ = e.Agent.Run(runCtx, e.Source, reconciler.RunOptions{PollInterval: 500 * time.Millisecond, DriftInterval: time.Hour})
	for _, n := range []string{"empty-a", "empty-b"} {
		if _, err := e.cs.CoreV1().Namespaces().Get(ctx, "tenant-"+n, metav1.GetOptions{}); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if got := e.Tenant(n); got == nil || got.Status.LastAppliedRevision != first.Revision {
			t.Fatalf("%s: tenant %+v, want last applied %s", n, got, first.Revision)
		}
	}
	if last := e.Source.LastGood(); last == nil || last.Revision != res.Revision {
		t.Fatalf("last good revision %+v, want %s", last, res.Revision)
	}
}

// TestMassDeletionHeldBack removes two of three tenants in one commit.
func TestMassDeletionHeldBack(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	for _, n := range []string{"mass-a", "mass-b", "mass-c"} {
		e.Write(n, framework.TenantYAML(n, framework.Spec("  deletionPolicy: Delete")))
	}
	e.CommitAndSync("tenants")
	e.Remove("mass-a")
	e.Remove("mass-b")
	res := e.CommitAndSync("remove two tenants")
	if !strings.Contains(res.HeldBack, "would remove 2 of 3 tenants") || len(res.Removed) != 0 {
		t.Fatalf("held back %q, removed %v", res.HeldBack, res.Removed)
	}
	for _, n := range []string{"mass-a", "mass-b"} {
		if e.Tenant(n) == nil {
			t.Fatalf("tenant %s removed despite the hold", n)
		}
	}
	// A share of a third still holds two back; two thirds lets them go.
	e.Agent = framework.NewAgent(t, host.Config, reconciler.Options{Instance: "testmassdeletionheldback", MaxTenantDeletionShare: 0.34})
	if res = e.Sync(); len(res.Removed) != 0 || res.HeldBack == "" {
		t.Fatalf("share 0.34: removed %v, held back %q", res.Removed, res.HeldBack)
	}
	e.Agent = framework.NewAgent(t, host.Config, reconciler.Options{Instance: "testmassdeletionheldback", MaxTenantDeletionShare: 0.67})
	res = e.Sync()
	if len(res.Removed) != 2 {
		t.Fatalf("with the override: removed %v, held back %q", res.Removed, res.HeldBack)
	}
}

// TestRestartMidApplyConverges cancels a pass part-way, as a killed agent would stop,
// then runs a fresh agent and checks nothing is lost or duplicated.
func TestRestartMidApplyConverges(t *testing.T) {
	e := newEnv(t, reconciler.Options{Workers: 1})
	var names []string
	for i := range 6 {
		n := "restart-" + string(rune('a'+i))
		names = append(names, n)
		e.Write(n, framework.TenantYAML(n))
	}
	e.Commit("six tenants")
	art := e.Fetch(ctx)
	cut, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _ = e.Agent.Sync(cut, art.Path, art.Revision)
	cancel()
	e.Agent = framework.NewAgent(t, host.Config, reconciler.Options{Instance: "testrestartmidapplyconverges"})
	res, err := e.Agent.Sync(ctx, art.Path, art.Revision)
	if err != nil || res.Failed() {
		t.Fatalf("second pass: %v %+v", err, res)
	}
	e.RequireReady(names...)
	for _, n := range names {
		tn := e.Tenant(n)
		if len(tn.Status.Inventory) != 7 {
			t.Fatalf("%s inventory: %v", n, tn.Status.Inventory)
		}
		qs, err := e.cs.CoreV1().ResourceQuotas("tenant-"+n).List(ctx, metav1.ListOptions{})
		if err != nil || len(qs.Items) != 1 {
			t.Fatalf("%s quotas: %d %v", n, len(qs.Items), err)
		}
	}
}

// TestDevCommandReconcilesExample runs the README's first command (`tenantry dev`) in
// --once mode on tenants-example/: every example tenant must become Ready.
func TestDevCommandReconcilesExample(t *testing.T) {
	var out strings.Builder
	devCtx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	err := runDev(devCtx, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"team-a", "team-b", "team-c"} {
		if !strings.Contains(out.String(), n) {
			t.Fatalf("output does not list %s", n)
		}
		// As it happens, not only in the pass's table.
		if !strings.Contains(out.String(), "  "+n+"  Ready=True  ") {
			t.Fatalf("output has no line of %s going Ready", n)
		}
	}
}

// tenantEvents lists the messages of events with reason on a host Tenant.
func tenantEvents(t *testing.T, e *env, tenant, reason string) []string {
	t.Helper()
	evs, err := e.cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Tenant,involvedObject.name=" + tenant + ",reason=" + reason})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs.Items {
		out = append(out, ev.Message)
	}
	return out
}
