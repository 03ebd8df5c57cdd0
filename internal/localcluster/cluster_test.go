package localcluster_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/test/framework"
)

var host *framework.Cluster

// TestMain starts a host cluster with Gatekeeper for the tests. They need the real
// components: without them (`make test-unit` on a fresh machine) the package skips.
func TestMain(m *testing.M) {
	if err := localcluster.Available(); err != nil {
		fmt.Fprintf(os.Stderr, "skipping the local cluster's tests, which start real components: %v\n", err)
		os.Exit(0)
	}
	framework.Main(m, localcluster.Options{Gatekeeper: true}, &host)
}

func TestStartupWithinTarget(t *testing.T) {
	t.Logf("host control plane with gatekeeper ready in %s", host.StartupTime)
	if host.StartupTime > 60*time.Second {
		t.Fatalf("start-up took %s", host.StartupTime)
	}
}

// TestServerSideApplyQuotaUsage applies a Namespace, a ResourceQuota and a Pod with
// server-side apply and waits for kube-controller-manager to fill in status.used.
func TestServerSideApplyQuotaUsage(t *testing.T) {
	ctx := context.Background()
	cs := host.Clientset(t)
	opts := metav1.ApplyOptions{FieldManager: "tenantry-test", Force: true}
	ns := "ssa-quota"
	if _, err := cs.CoreV1().Namespaces().Apply(ctx, applycorev1.Namespace(ns), opts); err != nil {
		t.Fatalf("applying namespace: %v", err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) })
	quota := applycorev1.ResourceQuota("quota", ns).WithSpec(applycorev1.ResourceQuotaSpec().
		WithHard(corev1.ResourceList{corev1.ResourcePods: resource.MustParse("5"), corev1.ResourceRequestsCPU: resource.MustParse("2")}))
	if _, err := cs.CoreV1().ResourceQuotas(ns).Apply(ctx, quota, opts); err != nil {
		t.Fatalf("applying quota: %v", err)
	}
	if err := host.WaitForServiceAccount(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// The quota controller must have seen the quota before the pod is admitted.
	framework.Eventually(t, 30*time.Second, "quota status.hard", func() (bool, error) {
		q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "quota", metav1.GetOptions{})
		return err == nil && len(q.Status.Hard) > 0, err
	})
	pod := applycorev1.Pod("web", ns).WithSpec(applycorev1.PodSpec().WithContainers(
		applycorev1.Container().WithName("web").WithImage("nginx").WithResources(
			applycorev1.ResourceRequirements().WithRequests(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}))))
	if _, err := cs.CoreV1().Pods(ns).Apply(ctx, pod, opts); err != nil {
		t.Fatalf("applying pod: %v", err)
	}
	framework.Eventually(t, 30*time.Second, "quota status.used to count the pod", func() (bool, error) {
		q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "quota", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pods, cpu := q.Status.Used[corev1.ResourcePods], q.Status.Used[corev1.ResourceRequestsCPU]
		return pods.Value() == 1 && cpu.MilliValue() == 500, nil
	})
}

// TestUserConfigIsSubjectToRBAC checks that minted user configs are really authorized by RBAC.
func TestUserConfigIsSubjectToRBAC(t *testing.T) {
	ns := host.NewNamespace(t)
	cfg, err := host.ConfigFor("alice", "team-a")
	if err != nil {
		t.Fatal(err)
	}
	alice := kubernetes.NewForConfigOrDie(cfg)
	_, err = alice.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("listing pods as alice without a binding: got %v, want Forbidden", err)
	}
	if !strings.Contains(err.Error(), `"alice"`) {
		t.Fatalf("the apiserver did not see user alice: %v", err)
	}
}

// TestDeploymentCreatesPods proves the controller manager runs the workload controllers.
func TestDeploymentCreatesPods(t *testing.T) {
	ctx := context.Background()
	ns := host.NewNamespace(t)
	cs := host.Clientset(t)
	var deploy = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}`
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(deploy), &obj.Object); err != nil {
		t.Fatal(err)
	}
	data, _ := obj.MarshalJSON()
	if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, "web", types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "tenantry-test"}); err != nil {
		t.Fatalf("applying deployment: %v", err)
	}
	framework.Eventually(t, 30*time.Second, "two pods from the deployment", func() (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		return err == nil && len(pods.Items) == 2, err
	})
}

var (
	templateGVR = schema.GroupVersionResource{Group: "templates.gatekeeper.sh", Version: "v1", Resource: "constrainttemplates"}
	blockGVR    = schema.GroupVersionResource{Group: "constraints.gatekeeper.sh", Version: "v1beta1", Resource: "k8sblocknodeport"}
)

const blockNodePortTemplate = `
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sblocknodeport}
spec:
  crd:
    spec:
      names: {kind: K8sBlockNodePort}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8sblocknodeport
      violation[{"msg": msg}] {
        input.review.kind.kind == "Service"
        input.review.object.spec.type == "NodePort"
        msg := "User is not allowed to create service of type NodePort"
      }`

// TestGatekeeperDeniesNodePortInOneNamespace installs a template and a constraint
// scoped to one namespace, and checks the real webhook denies there and only there.
func TestGatekeeperDeniesNodePortInOneNamespace(t *testing.T) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(host.Config)
	cs := host.Clientset(t)
	denied, allowed := host.NewNamespace(t), host.NewNamespace(t)
	applyYAML(t, dyn, templateGVR, "", blockNodePortTemplate)
	t.Cleanup(func() { _ = dyn.Resource(templateGVR).Delete(ctx, "k8sblocknodeport", metav1.DeleteOptions{}) })
	framework.Eventually(t, 60*time.Second, "template status.created=true", func() (bool, error) {
		obj, err := dyn.Resource(templateGVR).Get(ctx, "k8sblocknodeport", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		created, _, _ := unstructured.NestedBool(obj.Object, "status", "created")
		return created, nil
	})
	framework.Eventually(t, 60*time.Second, "the constraint CRD to serve", func() (bool, error) {
		err := applyYAMLErr(dyn, blockGVR, "", `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBlockNodePort
metadata: {name: block-nodeport-`+denied+`}
spec:
  match:
    scope: Namespaced
    namespaces: [`+denied+`]
    kinds: [{apiGroups: [""], kinds: [Service]}]`)
		return err == nil, err
	})
	framework.Eventually(t, 60*time.Second, "a NodePort service to be denied in "+denied, func() (bool, error) {
		err := createNodePort(ctx, cs, denied)
		if err == nil {
			_ = cs.CoreV1().Services(denied).Delete(ctx, "np", metav1.DeleteOptions{})
			return false, nil
		}
		return strings.Contains(err.Error(), "not allowed to create service of type NodePort"), err
	})
	if err := createNodePort(ctx, cs, allowed); err != nil {
		t.Fatalf("NodePort service in %s (no constraint) was denied: %v", allowed, err)
	}
}

func createNodePort(ctx context.Context, cs kubernetes.Interface, ns string) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "np"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "x"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}}},
	}
	_, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	return err
}

func applyYAML(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, doc string) {
	t.Helper()
	if err := applyYAMLErr(dyn, gvr, ns, doc); err != nil {
		t.Fatalf("applying %s: %v", gvr.Resource, err)
	}
}

func applyYAMLErr(dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, doc string) error {
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		return err
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = dyn.Resource(gvr).Namespace(ns).Patch(context.Background(), obj.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "tenantry-test", Force: &force})
	return err
}

// TestTenantControlPlaneOnKine starts a second, tenant-shaped control plane
// (kube-apiserver over kine/SQLite) for each supported Kubernetes version.
func TestTenantControlPlaneOnKine(t *testing.T) {
	for _, version := range localcluster.KubernetesVersions {
		t.Run(version, func(t *testing.T) {
			ctx := context.Background()
			tenant, err := framework.Start(ctx, localcluster.Options{KubernetesVersion: version, Storage: localcluster.Kine, NoControllerManager: true})
			if err != nil {
				t.Fatalf("starting tenant control plane: %v", err)
			}
			defer tenant.Cleanup()
			t.Logf("tenant control plane %s on kine ready in %s", version, tenant.StartupTime)
			cs := tenant.Clientset(t)
			info, err := cs.Discovery().ServerVersion()
			if err != nil {
				t.Fatal(err)
			}
			if info.GitVersion != version {
				t.Fatalf("server version %s, want %s", info.GitVersion, version)
			}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "in-tenant"}, Data: map[string]string{"k": "v"}}
			if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				t.Fatalf("writing to the tenant API: %v", err)
			}
			if _, err := host.Clientset(t).CoreV1().ConfigMaps("default").Get(ctx, "in-tenant", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("tenant object visible on the host: %v", err)
			}
		})
	}
}
