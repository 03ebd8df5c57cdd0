package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/standin"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// TestVirtualClusterLifecycle rolls out a tenant's virtual cluster on the real control
// plane (the StatefulSet controller of kube-controller-manager creates its pod; the test
// plays the kubelet), then upgrades it, refuses a downgrade, pauses and resumes it.
func TestVirtualClusterLifecycle(t *testing.T) {
	e := newEnv(t, reconciler.Options{VirtualClusters: true, HealthTimeout: time.Minute})
	const name, ns = "vc-life", "tenant-vc-life"
	startKubelet(t, e.cs, ns)

	began := time.Now()
	e.Write(name, framework.TenantYAML(name, framework.Version("1.36")))
	e.CommitAndSync("a tenant with a virtual cluster")
	e.RequireReady(name)
	t.Logf("rollout: %s", time.Since(began).Round(time.Millisecond))
	requireChartObjects(t, e.cs, ns)
	requireImage(t, e.cs, ns, "tenantry-vcluster:v1.36.3")
	cp := e.Tenant(name).Status.ControlPlane
	want := v1alpha1.ControlPlaneStatus{Version: "v1.36.3", Endpoint: "https://vc-vc-life.tenant-vc-life.svc:443",
		KubeconfigSecret: "vc-vc-life-kubeconfig", Ready: true}
	if cp == nil || *cp != want {
		t.Fatalf("status.controlPlane = %+v, want %+v", cp, want)
	}

	began = time.Now()
	e.Write(name, framework.TenantYAML(name, framework.Version("1.37")))
	e.CommitAndSync("upgrade to 1.37")
	e.RequireReady(name)
	t.Logf("upgrade: %s", time.Since(began).Round(time.Millisecond))
	requireImage(t, e.cs, ns, "tenantry-vcluster:v1.37.2")
	if pod, err := e.cs.CoreV1().Pods(ns).Get(ctx, "vc-vc-life-0", metav1.GetOptions{}); err != nil || pod.Spec.Containers[0].Image != "tenantry-vcluster:v1.37.2" {
		t.Fatalf("the control plane pod did not roll to v1.37.2: %v", err)
	}
	if cp := e.Tenant(name).Status.ControlPlane; cp == nil || cp.Version != "v1.37.2" || !cp.Ready {
		t.Fatalf("after the upgrade status.controlPlane = %+v", cp)
	}

	e.Write(name, framework.TenantYAML(name, framework.Version("1.36")))
	e.CommitAndSync("downgrade to 1.36")
	ok, msg := e.Ready(name)
	if ok || !strings.HasPrefix(msg, v1alpha1.ReasonDowngradeRefused+":") || !strings.Contains(msg, "cannot be downgraded") {
		t.Fatalf("downgrade: ready %v, %q; want refused", ok, msg)
	}
	t.Logf("downgrade refused: %s", msg)
	requireImage(t, e.cs, ns, "tenantry-vcluster:v1.37.2")

	synced := createSyncedPod(t, e.cs, ns, name)
	e.Write(name, framework.TenantYAML(name, framework.Version("1.37"), framework.Spec("  paused: true")))
	e.CommitAndSync("pause")
	if c := framework.Condition(e.Tenant(name), v1alpha1.ConditionReady); c == nil || c.Reason != v1alpha1.ReasonPaused {
		t.Fatalf("paused tenant condition %+v", c)
	}
	requireReplicas(t, e.cs, ns, 0)
	eventually(t, "the synced pod is deleted", func() (bool, error) {
		p, err := e.cs.CoreV1().Pods(ns).Get(ctx, synced, metav1.GetOptions{})
		return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil), nil
	})

	began = time.Now()
	e.Write(name, framework.TenantYAML(name, framework.Version("1.37")))
	e.CommitAndSync("resume")
	e.RequireReady(name)
	t.Logf("resume: %s", time.Since(began).Round(time.Millisecond))
	requireReplicas(t, e.cs, ns, 1)
	if cp := e.Tenant(name).Status.ControlPlane; cp == nil || !cp.Ready {
		t.Fatalf("after resume status.controlPlane = %+v", cp)
	}
}

func requireChartObjects(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	const n = "vc-vc-life"
	for what, get := range map[string]func() error{
		"StatefulSet":    func() error { _, err := cs.AppsV1().StatefulSets(ns).Get(ctx, n, metav1.GetOptions{}); return err },
		"Service":        func() error { _, err := cs.CoreV1().Services(ns).Get(ctx, n, metav1.GetOptions{}); return err },
		"ServiceAccount": func() error { _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, n, metav1.GetOptions{}); return err },
		"ConfigMap": func() error {
			_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, n+"-config", metav1.GetOptions{})
			return err
		},
		"RoleBinding": func() error { _, err := cs.RbacV1().RoleBindings(ns).Get(ctx, n, metav1.GetOptions{}); return err },
	} {
		if err := get(); err != nil {
			t.Fatalf("%s %s/%s: %v", what, ns, n, err)
		}
	}
	svc, _ := cs.CoreV1().Services(ns).Get(ctx, n, metav1.GetOptions{})
	if svc.Labels[render.LabelTenant] != "vc-life" || svc.Spec.Type != corev1.ServiceTypeClusterIP || len(svc.Spec.Ports) != 3 {
		t.Fatalf("Service labels %v, type %s, ports %v", svc.Labels, svc.Spec.Type, svc.Spec.Ports)
	}
	crs, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: render.LabelTenant + "=vc-life"})
	if err != nil || len(crs.Items) != 0 {
		t.Fatalf("a ClusterRole without node or storage class sync: %v, %v", crs, err)
	}
}

func statefulSet(t *testing.T, cs kubernetes.Interface, ns string) *appsv1.StatefulSet {
	t.Helper()
	sts, err := cs.AppsV1().StatefulSets(ns).Get(ctx, "vc-vc-life", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sts
}

func requireImage(t *testing.T, cs kubernetes.Interface, ns, image string) {
	t.Helper()
	if got := statefulSet(t, cs, ns).Spec.Template.Spec.Containers[0].Image; got != image {
		t.Fatalf("StatefulSet image %s, want %s", got, image)
	}
}

func requireReplicas(t *testing.T, cs kubernetes.Interface, ns string, n int32) {
	t.Helper()
	if got := statefulSet(t, cs, ns).Spec.Replicas; got == nil || *got != n {
		t.Fatalf("StatefulSet replicas %v, want %d", got, n)
	}
}

// createSyncedPod creates a host pod as the syncer would (label wellknown.VClusterLabelManagedBy).
// It is not bound to a node, so its deletion is immediate.
func createSyncedPod(t *testing.T, cs kubernetes.Interface, ns, vcluster string) string {
	t.Helper()
	small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}
	yes, no := true, false
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-x-default-x-" + vcluster, Labels: map[string]string{wellknown.VClusterLabelManagedBy: vcluster}},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{Name: "web", Image: "nginx",
				Resources:       corev1.ResourceRequirements{Requests: small, Limits: small},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}}},
		},
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return p.Name
}

// startKubelet plays the kubelet for ns on a Node of its own (the stand-in binds its
// pods, marks them Running and Ready and finishes deletions; the pods the syncer made stay
// unbound) until stop is called or the test ends.
func startKubelet(t *testing.T, cs kubernetes.Interface, ns string) (stop func()) {
	t.Helper()
	k := &standin.Kubelet{Client: cs, Node: "node-" + ns, Namespace: ns,
		Leave: func(p *corev1.Pod) bool { return p.Labels[wellknown.VClusterLabelManagedBy] != "" }}
	if err := k.CreateNode(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.DeleteNode(context.Background()) })
	return framework.RunKubelet(t, k, 100*time.Millisecond)
}
