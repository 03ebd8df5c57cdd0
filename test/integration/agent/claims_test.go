package agent_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// readyCondition returns a tenant's Ready condition, failing the test when there is none.
func (e *env) readyCondition(name string) *metav1.Condition {
	e.t.Helper()
	c := framework.Condition(framework.RequireTenant(e.t, e.Agent.Client(), name), v1alpha1.ConditionReady)
	if c == nil {
		e.t.Fatalf("Tenant %s has no Ready condition", name)
	}
	return c
}

// nsState is what must not change in a namespace a tenant may not claim.
type nsState struct {
	resourceVersion string
	labels          map[string]string
	annotations     map[string]string
	objects         []string // Kind/name@resourceVersion
}

// nsState reads a namespace and the objects a tenant's apply would create or touch in it:
// quotas, limit ranges and network policies, plus configmaps when withData is set.
func (e *env) nsState(name string, withData bool) nsState {
	e.t.Helper()
	ns, err := e.cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	s := nsState{resourceVersion: ns.ResourceVersion, labels: ns.Labels, annotations: ns.Annotations}
	add := func(kind string, m metav1.ObjectMeta) {
		s.objects = append(s.objects, kind+"/"+m.Name+"@"+m.ResourceVersion)
	}
	q, err1 := e.cs.CoreV1().ResourceQuotas(name).List(ctx, metav1.ListOptions{})
	l, err2 := e.cs.CoreV1().LimitRanges(name).List(ctx, metav1.ListOptions{})
	n, err3 := e.cs.NetworkingV1().NetworkPolicies(name).List(ctx, metav1.ListOptions{})
	c, err4 := e.cs.CoreV1().ConfigMaps(name).List(ctx, metav1.ListOptions{})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		e.t.Fatal(err)
	}
	for _, i := range q.Items {
		add("ResourceQuota", i.ObjectMeta)
	}
	for _, i := range l.Items {
		add("LimitRange", i.ObjectMeta)
	}
	for _, i := range n.Items {
		add("NetworkPolicy", i.ObjectMeta)
	}
	for _, i := range c.Items {
		if withData {
			add("ConfigMap", i.ObjectMeta)
		}
	}
	return s
}

func (s nsState) String() string {
	return "rv=" + s.resourceVersion + " labels=" + mapString(s.labels) + " annotations=" + mapString(s.annotations) +
		" objects=" + strings.Join(s.objects, ",")
}

func mapString(m map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kv = append(kv, k+"="+m[k])
	}
	return strings.Join(kv, ",")
}

func (e *env) requireUnchanged(name string, withData bool, before nsState) {
	e.t.Helper()
	if after := e.nsState(name, withData); after.String() != before.String() {
		e.t.Fatalf("namespace %s changed:\nbefore %s\nafter  %s", name, before, after)
	}
}

func (e *env) createNamespace(name string, labels map[string]string) {
	e.t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := e.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = e.cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}) })
	// kube-controller-manager publishes its CA bundle into every new namespace; wait for
	// it, so a later "nothing changed" compares against a namespace it has finished with.
	eventually(e.t, "kube-root-ca.crt in "+name, func() (bool, error) {
		_, err := e.cs.CoreV1().ConfigMaps(name).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err == nil, nil
	})
}

func (e *env) createConfigMap(ns, name string) {
	e.t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"key": "precious"}}
	if _, err := e.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) writeDefaults(body string) {
	e.t.Helper()
	e.WriteFile("defaults.yaml", "apiVersion: tenantry.dev/v1alpha1\nkind: TenantDefaults\nspec:\n"+body)
}

// TestTenantClaimingKubeSystemIsRefused: a tenant file naming kube-system is invalid with
// file:line, and kube-system is left exactly as it was: labels, Pod Security, no policies.
func TestTenantClaimingKubeSystemIsRefused(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	before := e.nsState("kube-system", false) // its configmaps belong to the control plane
	e.Write("clm-sys", framework.TenantYAML("clm-sys", framework.Spec("  namespace: kube-system", "  deletionPolicy: Delete")))
	e.Write("clm-ok", framework.TenantYAML("clm-ok"))
	res := e.CommitAndSync("claim kube-system")
	want := `tenants/clm-sys.yaml:15: spec.namespace: host namespace "kube-system" is protected`
	if len(res.Invalid) != 1 || !strings.Contains(res.Invalid[0].Errors.Error(), want) {
		t.Fatalf("invalid = %+v, want an error containing %q", res.Invalid, want)
	}
	if c := e.readyCondition("clm-sys"); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, want) {
		t.Fatalf("clm-sys Ready: %+v", c)
	}
	e.RequireReady("clm-ok")
	e.requireUnchanged("kube-system", false, before)
	// Removing the file must not touch kube-system either (deletionPolicy: Delete).
	e.Remove("clm-sys")
	e.CommitAndSync("remove clm-sys")
	e.requireUnchanged("kube-system", false, before)
}

// TestAgentNamespaceIsRefused: the agent's own namespace is refused even when it carries
// the tenant's labels; nothing is applied in it.
func TestAgentNamespaceIsRefused(t *testing.T) {
	e := newEnv(t, reconciler.Options{ProtectedNamespaces: []string{"clm-agent-home"}})
	e.createNamespace("clm-agent-home", map[string]string{render.LabelTenant: "clm-home", render.LabelManagedBy: render.ManagedByValue})
	before := e.nsState("clm-agent-home", true)
	e.Write("clm-home", framework.TenantYAML("clm-home", framework.Spec("  namespace: clm-agent-home")))
	res := e.CommitAndSync("claim the agent's namespace")
	if len(res.Tenants) != 1 || res.Tenants[0].Err == nil {
		t.Fatalf("tenants %+v", res.Tenants)
	}
	c := e.readyCondition("clm-home")
	if c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonNamespaceProtected || !strings.Contains(c.Message, `"clm-agent-home" is protected`) {
		t.Fatalf("Ready: %+v", c)
	}
	e.requireUnchanged("clm-agent-home", true, before)
}

// TestExistingNamespaceNeedsAdoption: a tenant naming a namespace that exists without its
// labels is refused and nothing in the namespace changes; once defaults.yaml lets the
// tenant adopt it, it is adopted and the data in it is kept.
func TestExistingNamespaceNeedsAdoption(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	e.createNamespace("clm-legacy", map[string]string{"team": "legacy"})
	e.createConfigMap("clm-legacy", "data")
	before := e.nsState("clm-legacy", true)
	e.Write("clm-adopt", framework.TenantYAML("clm-adopt", framework.Spec("  namespace: clm-legacy")))
	res := e.CommitAndSync("claim an existing namespace")
	if len(res.Tenants) != 1 || res.Tenants[0].Err == nil {
		t.Fatalf("tenants %+v", res.Tenants)
	}
	c := e.readyCondition("clm-adopt")
	if c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonNamespaceNotOwned ||
		!strings.Contains(c.Message, `host namespace "clm-legacy" already exists`) || !strings.Contains(c.Message, "spec.namespaceAdoptions") {
		t.Fatalf("Ready: %+v", c)
	}
	if tn := e.Tenant("clm-adopt"); len(tn.Status.Inventory) != 0 {
		t.Fatalf("inventory of a refused tenant: %v", tn.Status.Inventory)
	}
	e.requireUnchanged("clm-legacy", true, before)
	// Another pass (drift, retries) changes nothing either.
	e.Sync()
	e.requireUnchanged("clm-legacy", true, before)

	e.writeDefaults("  namespaceAdoptions: [{namespace: clm-legacy, tenant: clm-adopt}]\n")
	e.CommitAndSync("adopt clm-legacy")
	e.RequireReady("clm-adopt")
	ns, err := e.cs.CoreV1().Namespaces().Get(ctx, "clm-legacy", metav1.GetOptions{})
	if err != nil || ns.Labels[render.LabelTenant] != "clm-adopt" || ns.Labels["team"] != "legacy" {
		t.Fatalf("adopted namespace: %v %v", err, ns.Labels)
	}
	if _, err := e.cs.CoreV1().ResourceQuotas("clm-legacy").Get(ctx, render.QuotaName, metav1.GetOptions{}); err != nil {
		t.Fatalf("quota in the adopted namespace: %v", err)
	}
	if cm, err := e.cs.CoreV1().ConfigMaps("clm-legacy").Get(ctx, "data", metav1.GetOptions{}); err != nil || cm.Data["key"] != "precious" {
		t.Fatalf("data in the adopted namespace: %v %v", err, cm)
	}
}

// TestNamespaceChangeFollowsDeletionPolicy: under Retain, moving a tenant to another
// namespace keeps the old one and its data, marked orphaned, and a move back re-claims
// it; under Delete the old namespace is deleted.
func TestNamespaceChangeFollowsDeletionPolicy(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	e.Write("clm-keep", framework.TenantYAML("clm-keep", framework.Spec("  namespace: clm-keep-a")))
	e.Write("clm-drop", framework.TenantYAML("clm-drop", framework.Spec("  namespace: clm-drop-a", "  deletionPolicy: Delete")))
	e.CommitAndSync("tenants")
	e.RequireReady("clm-keep", "clm-drop")
	e.createConfigMap("clm-keep-a", "data")

	e.Write("clm-keep", framework.TenantYAML("clm-keep", framework.Spec("  namespace: clm-keep-b")))
	e.Write("clm-drop", framework.TenantYAML("clm-drop", framework.Spec("  namespace: clm-drop-b", "  deletionPolicy: Delete")))
	e.CommitAndSync("move both")
	e.RequireReady("clm-keep", "clm-drop")

	old, err := e.cs.CoreV1().Namespaces().Get(ctx, "clm-keep-a", metav1.GetOptions{})
	if err != nil || old.DeletionTimestamp != nil || old.Annotations[render.AnnotationOrphan] == "" || old.Labels[render.LabelTenant] != "clm-keep" {
		t.Fatalf("retained namespace: %v %+v", err, old.ObjectMeta)
	}
	if cm, err := e.cs.CoreV1().ConfigMaps("clm-keep-a").Get(ctx, "data", metav1.GetOptions{}); err != nil || cm.Data["key"] != "precious" {
		t.Fatalf("data in the retained namespace: %v", err)
	}
	if _, err := e.cs.CoreV1().ResourceQuotas("clm-keep-a").Get(ctx, render.QuotaName, metav1.GetOptions{}); err != nil {
		t.Fatalf("the retained namespace's contents were pruned one by one: %v", err)
	}
	for _, ref := range e.Tenant("clm-keep").Status.Inventory {
		if strings.HasPrefix(ref.ID, "clm-keep-a_") || strings.Contains(ref.ID, "_clm-keep-a_") {
			t.Errorf("the left namespace is still in the inventory: %s", ref.ID)
		}
	}
	if _, err := e.cs.CoreV1().ResourceQuotas("clm-keep-b").Get(ctx, render.QuotaName, metav1.GetOptions{}); err != nil {
		t.Fatalf("quota in the new namespace: %v", err)
	}
	eventually(t, "namespace clm-drop-a deleted", func() (bool, error) {
		ns, err := e.cs.CoreV1().Namespaces().Get(ctx, "clm-drop-a", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return err == nil && ns.DeletionTimestamp != nil, err
	})

	e.Write("clm-keep", framework.TenantYAML("clm-keep", framework.Spec("  namespace: clm-keep-a")))
	e.CommitAndSync("move clm-keep back")
	e.RequireReady("clm-keep")
	back, err := e.cs.CoreV1().Namespaces().Get(ctx, "clm-keep-a", metav1.GetOptions{})
	if err != nil || back.Annotations[render.AnnotationOrphan] != "" {
		t.Fatalf("re-claimed namespace: %v %+v", err, back.ObjectMeta)
	}
	if _, err := e.cs.CoreV1().ConfigMaps("clm-keep-a").Get(ctx, "data", metav1.GetOptions{}); err != nil {
		t.Fatalf("data after the move back: %v", err)
	}
	left, err := e.cs.CoreV1().Namespaces().Get(ctx, "clm-keep-b", metav1.GetOptions{})
	if err != nil || left.DeletionTimestamp != nil || left.Annotations[render.AnnotationOrphan] == "" {
		t.Fatalf("namespace left by the move back: %v %+v", err, left.ObjectMeta)
	}
}

// TestDriftCorrectionNeverReadopts: when a platform admin takes a tenant's namespace back
// (removes tenantry's labels), the drift check does not put them back.
func TestDriftCorrectionNeverReadopts(t *testing.T) {
	e := newEnv(t, reconciler.Options{})
	e.Write("clm-back", framework.TenantYAML("clm-back"))
	e.CommitAndSync("a tenant")
	e.RequireReady("clm-back")
	const ns = "tenant-clm-back"
	patch := []byte(`{"metadata":{"labels":{"` + render.LabelTenant + `":null,"` + render.LabelManagedBy + `":null}}}`)
	if _, err := e.cs.CoreV1().Namespaces().Patch(ctx, ns, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	drifts := e.Agent.CheckDrift(ctx)
	if len(drifts) != 1 || drifts[0].Corrected || drifts[0].Err == nil || !strings.Contains(drifts[0].Err.Error(), "not correcting drift") {
		t.Fatalf("drift check %+v, want the drift found, not corrected, and why", drifts)
	}
	got, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Labels[render.LabelTenant]; ok {
		t.Fatalf("the drift check put the tenant label back on %s: %v", ns, got.Labels)
	}
}
