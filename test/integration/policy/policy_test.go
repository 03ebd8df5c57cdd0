package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

var host *framework.Cluster

func TestMain(m *testing.M) {
	framework.Main(m, localcluster.Options{Gatekeeper: true}, &host)
}

var (
	ctx         = context.Background()
	templateGVR = schema.GroupVersionResource{Group: "templates.gatekeeper.sh", Version: "v1", Resource: "constrainttemplates"}
	nodePortGVR = schema.GroupVersionResource{Group: "constraints.gatekeeper.sh", Version: "v1beta1", Resource: "k8sblocknodeport"}
)

// tenantFile is a tenant with network isolation None and the given policies block (may
// be empty); it has no quota.
func tenantFile(name, policies string) string {
	return framework.TenantYAML(name, framework.Owner("Group", name), framework.NoQuota(),
		framework.Spec("  network:\n    isolation: None", policies))
}

const blockNodePort = "  policies:\n  - template: K8sBlockNodePort\n"

// selected returns the shared constraints of gvr that namespace ns selects through its
// labels (render.ConstraintLabelPrefix), by name.
func selected(t *testing.T, ns string, gvr schema.GroupVersionResource) []*unstructured.Unstructured {
	t.Helper()
	nsObj, err := host.Clientset(t).CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(host.Config)
	var out []*unstructured.Unstructured
	for key := range nsObj.Labels {
		suffix, ok := strings.CutPrefix(key, render.ConstraintLabelPrefix)
		if !ok || !strings.HasPrefix(suffix, gvr.Resource+"-") {
			continue
		}
		c, err := dyn.Resource(gvr).Get(ctx, "tenantry-"+suffix, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the constraint namespace %s selects (%s): %v", ns, key, err)
		}
		out = append(out, c)
	}
	return out
}

const isolationNoneGranted = "apiVersion: tenantry.dev/v1alpha1\nkind: TenantDefaults\nspec:\n" +
	"  tenantExceptions: [{tenants: ['*'], allowIsolationNone: true}]\n"

// newEnv is an agent with the policy library and a repo whose defaults.yaml lets the
// tenant files set network.isolation: None, which only the platform team may grant.
func newEnv(t *testing.T) *framework.Env {
	t.Helper()
	lib, err := policy.Library()
	if err != nil {
		t.Fatal(err)
	}
	e := framework.NewEnv(t, host.Config, reconciler.Options{Templates: lib, HealthTimeout: time.Minute})
	e.WriteFile("defaults.yaml", isolationNoneGranted)
	return e
}

// commitAndSync writes the tenant files (name to body), commits them and runs one pass,
// which must succeed.
func commitAndSync(t *testing.T, e *framework.Env, files map[string]string) *reconciler.Result {
	t.Helper()
	for name, body := range files {
		e.Write(name, body)
	}
	e.Commit("update")
	return e.SyncOK()
}

func createNodePort(cs kubernetes.Interface, ns string) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "np-"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "x"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}}},
	}
	_, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	return err
}

// TestTenantPolicyIsEnforcedInItsNamespaceOnly applies a tenant with "block NodePort" and
// one without, through the agent, against the real Gatekeeper webhook.
func TestTenantPolicyIsEnforcedInItsNamespaceOnly(t *testing.T) {
	e := newEnv(t)
	commitAndSync(t, e, map[string]string{"pol-a": tenantFile("pol-a", blockNodePort), "pol-b": tenantFile("pol-b", "")})
	if got := selected(t, "tenant-pol-b", nodePortGVR); len(got) != 0 {
		t.Fatalf("tenant-pol-b, without the policy, selects %d constraints", len(got))
	}
	cons := selected(t, "tenant-pol-a", nodePortGVR)
	if len(cons) != 1 {
		t.Fatalf("tenant-pol-a selects %d block-NodePort constraints, want 1", len(cons))
	}
	c := cons[0]
	if sel, _, _ := unstructured.NestedStringMap(c.Object, "spec", "match", "namespaceSelector", "matchLabels"); len(sel) != 1 {
		t.Fatalf("constraint selects namespaces by %v", sel)
	}
	if kinds, _, _ := unstructured.NestedSlice(c.Object, "spec", "match", "kinds"); len(kinds) != 1 {
		t.Fatalf("constraint match kinds from the template's annotation: %v", kinds)
	}
	cs := host.Clientset(t)
	err := createNodePort(cs, "tenant-pol-a")
	if err == nil || !strings.Contains(err.Error(), "type NodePort is not allowed") {
		t.Fatalf("NodePort in tenant-pol-a: %v, want a Gatekeeper denial", err)
	}
	if err := createNodePort(cs, "tenant-pol-b"); err != nil {
		t.Fatalf("NodePort in tenant-pol-b was denied: %v", err)
	}
}

// TestRemovedPolicyIsPrunedAndSharedTemplateStays removes a policy from one of two tenants
// that share its constraint, then from the other: the constraint stays while a namespace
// selects it and is pruned after the last one lets it go. (A dryrun policy, so no other
// test's namespace shares this constraint.)
func TestRemovedPolicyIsPrunedAndSharedTemplateStays(t *testing.T) {
	e := newEnv(t)
	denyAndWarn := blockNodePort + "  - template: K8sBlockNodePort\n    enforcementAction: warn\n"
	commitAndSync(t, e, map[string]string{"pol-c": tenantFile("pol-c", denyAndWarn), "pol-d": tenantFile("pol-d", denyAndWarn)})
	both := selected(t, "tenant-pol-c", nodePortGVR)
	if len(both) != 2 || len(selected(t, "tenant-pol-d", nodePortGVR)) != 2 {
		t.Fatalf("pol-c selects %d constraints (deny and warn), want 2", len(both))
	}
	commitAndSync(t, e, map[string]string{"pol-c": tenantFile("pol-c", "")})
	if got := selected(t, "tenant-pol-c", nodePortGVR); len(got) != 0 {
		t.Fatalf("pol-c still selects %d constraints after its policies were removed", len(got))
	}
	dyn := dynamic.NewForConfigOrDie(host.Config)
	for _, c := range both {
		if _, err := dyn.Resource(nodePortGVR).Get(ctx, c.GetName(), metav1.GetOptions{}); err != nil {
			t.Fatalf("the constraint pol-d still selects: %v", err)
		}
	}
	if _, err := dyn.Resource(templateGVR).Get(ctx, "k8sblocknodeport", metav1.GetOptions{}); err != nil {
		t.Fatalf("the shared template: %v", err)
	}
	cs := host.Clientset(t)
	if err := createNodePort(cs, "tenant-pol-d"); err == nil {
		t.Fatal("NodePort allowed in tenant-pol-d")
	}
	framework.Eventually(t, 30*time.Second, "NodePort allowed again in tenant-pol-c", func() (bool, error) {
		err := createNodePort(cs, "tenant-pol-c")
		return err == nil, err
	})
	commitAndSync(t, e, map[string]string{"pol-d": tenantFile("pol-d", blockNodePort)})
	for _, c := range both {
		action, _, _ := unstructured.NestedString(c.Object, "spec", "enforcementAction")
		_, err := dyn.Resource(nodePortGVR).Get(ctx, c.GetName(), metav1.GetOptions{})
		if action == "warn" && !apierrors.IsNotFound(err) {
			t.Errorf("the warn constraint no namespace selects any more: %v, want it pruned", err)
		}
		if action != "warn" && err != nil {
			t.Errorf("the deny constraint pol-d selects: %v", err)
		}
	}
}
