package policy_test

import (
	"context"
	"path/filepath"
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

	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/source"
	"github.com/tenantry/tenantry/test/cluster"
)

var host *cluster.Cluster

func TestMain(m *testing.M) {
	cluster.Main(m, cluster.Options{Gatekeeper: true}, &host)
}

var (
	ctx         = context.Background()
	templateGVR = schema.GroupVersionResource{Group: "templates.gatekeeper.sh", Version: "v1", Resource: "constrainttemplates"}
	nodePortGVR = schema.GroupVersionResource{Group: "constraints.gatekeeper.sh", Version: "v1beta1", Resource: "k8sblocknodeport"}
)

// tenantFile is a tenant with the given policies block (may be empty).
func tenantFile(name, policies string) string {
	return "apiVersion: tenantry.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: " + name +
		"\nspec:\n  owners:\n  - kind: Group\n    name: " + name + "\n  network:\n    isolation: None\n" + policies
}

const blockNodePort = "  policies:\n  - template: K8sBlockNodePort\n"

const isolationNoneGranted = "apiVersion: tenantry.dev/v1alpha1\nkind: TenantDefaults\nspec:\n" +
	"  tenantExceptions: [{tenants: ['*'], allowIsolationNone: true}]\n"

type env struct {
	t     *testing.T
	repo  *localrepo.Repo
	src   *source.Source
	agent *reconciler.Agent
}

func newEnv(t *testing.T) *env {
	lib, err := policy.Library()
	if err != nil {
		t.Fatal(err)
	}
	repo, err := localrepo.Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	// The tenant files set network.isolation: None, which only the platform team may grant.
	if err := repo.Write("defaults.yaml", []byte(isolationNoneGranted)); err != nil {
		t.Fatal(err)
	}
	src, err := source.New(source.Options{URL: repo.URL(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	agent, err := reconciler.New(host.Config, reconciler.Options{Templates: lib, HealthTimeout: time.Minute,
		Instance: strings.ToLower(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Close)
	if err := agent.InstallCRDs(ctx); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, repo: repo, src: src, agent: agent}
}

func (e *env) commitAndSync(files map[string]string) *reconciler.Result {
	e.t.Helper()
	for name, body := range files {
		if err := e.repo.Write("tenants/"+name+".yaml", []byte(body)); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.repo.Commit("update"); err != nil {
		e.t.Fatal(err)
	}
	art, _, err := e.src.Fetch(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.agent.Sync(ctx, art.Path, art.Revision)
	if err != nil || res.Failed() {
		e.t.Fatalf("sync: %v %+v", err, res)
	}
	return res
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
	e.commitAndSync(map[string]string{"pol-a": tenantFile("pol-a", blockNodePort), "pol-b": tenantFile("pol-b", "")})
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
	e.commitAndSync(map[string]string{"pol-c": tenantFile("pol-c", blockNodePort), "pol-d": tenantFile("pol-d", blockNodePort)})
	e.commitAndSync(map[string]string{"pol-c": tenantFile("pol-c", "")})
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
	cluster.Eventually(t, 30*time.Second, "NodePort allowed again in tenant-pol-c", func() (bool, error) {
		err := createNodePort(cs, "tenant-pol-c")
		return err == nil, err
	})
}
