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
	dyn := dynamic.NewForConfigOrDie(host.Config)
	c, err := dyn.Resource(nodePortGVR).Get(ctx, "pol-a-k8sblocknodeport", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("constraint: %v", err)
	}
	if ns, _, _ := unstructured.NestedStringSlice(c.Object, "spec", "match", "namespaces"); len(ns) != 1 || ns[0] != "tenant-pol-a" {
		t.Fatalf("constraint scoped to %v", ns)
	}
	if kinds, _, _ := unstructured.NestedSlice(c.Object, "spec", "match", "kinds"); len(kinds) != 1 {
		t.Fatalf("constraint match kinds from the template's annotation: %v", kinds)
	}
	cs := host.Clientset(t)
	err = createNodePort(cs, "tenant-pol-a")
	if err == nil || !strings.Contains(err.Error(), "type NodePort is not allowed") {
		t.Fatalf("NodePort in tenant-pol-a: %v, want a Gatekeeper denial", err)
	}
	if err := createNodePort(cs, "tenant-pol-b"); err != nil {
		t.Fatalf("NodePort in tenant-pol-b was denied: %v", err)
	}
}

// TestRemovedPolicyIsPrunedAndSharedTemplateStays removes a policy from one of two tenants.
func TestRemovedPolicyIsPrunedAndSharedTemplateStays(t *testing.T) {
	e := newEnv(t)
	commitAndSync(t, e, map[string]string{"pol-c": tenantFile("pol-c", blockNodePort), "pol-d": tenantFile("pol-d", blockNodePort)})
	commitAndSync(t, e, map[string]string{"pol-c": tenantFile("pol-c", "")})
	dyn := dynamic.NewForConfigOrDie(host.Config)
	if _, err := dyn.Resource(nodePortGVR).Get(ctx, "pol-c-k8sblocknodeport", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("pol-c's constraint after its policy was removed: %v", err)
	}
	if _, err := dyn.Resource(templateGVR).Get(ctx, "k8sblocknodeport", metav1.GetOptions{}); err != nil {
		t.Fatalf("the shared template: %v", err)
	}
	if _, err := dyn.Resource(nodePortGVR).Get(ctx, "pol-d-k8sblocknodeport", metav1.GetOptions{}); err != nil {
		t.Fatalf("pol-d's constraint: %v", err)
	}
	cs := host.Clientset(t)
	if err := createNodePort(cs, "tenant-pol-d"); err == nil {
		t.Fatal("NodePort allowed in tenant-pol-d")
	}
	framework.Eventually(t, 30*time.Second, "NodePort allowed again in tenant-pol-c", func() (bool, error) {
		err := createNodePort(cs, "tenant-pol-c")
		return err == nil, err
	})
}
