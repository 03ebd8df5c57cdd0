package agent_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/syncer"
	"github.com/tenantry/tenantry/test/cluster"
)

// TestVirtualClusterLifecycle rolls out a tenant's virtual cluster on the real control
// plane (the StatefulSet controller of kube-controller-manager creates its pod; the test
// plays the kubelet), then upgrades it, refuses a downgrade, pauses and resumes it.
func TestVirtualClusterLifecycle(t *testing.T) {
	e := newEnv(t, reconciler.Options{VirtualClusters: true, HealthTimeout: time.Minute})
	const name, ns = "vc-life", "tenant-vc-life"
	startKubelet(t, e.cs, ns)

	began := time.Now()
	e.write(name, tenantYAML(name, "10", `  kubernetesVersion: "1.36"`))
	e.commitAndSync("a tenant with a virtual cluster")
	e.requireReady(name)
	t.Logf("rollout: %s", time.Since(began).Round(time.Millisecond))
	requireChartObjects(t, e.cs, ns)
	requireImage(t, e.cs, ns, "tenantry-vcluster:v1.36.3")
	cp := e.tenant(name).Status.ControlPlane
	want := v1alpha1.ControlPlaneStatus{Version: "v1.36.3", Endpoint: "https://vc-vc-life.tenant-vc-life.svc:443",
		KubeconfigSecret: "vc-vc-life-kubeconfig", Ready: true}
	if cp == nil || *cp != want {
		t.Fatalf("status.controlPlane = %+v, want %+v", cp, want)
	}

	began = time.Now()
	e.write(name, tenantYAML(name, "10", `  kubernetesVersion: "1.37"`))
	e.commitAndSync("upgrade to 1.37")
	e.requireReady(name)
	t.Logf("upgrade: %s", time.Since(began).Round(time.Millisecond))
	requireImage(t, e.cs, ns, "tenantry-vcluster:v1.37.2")
	if pod, err := e.cs.CoreV1().Pods(ns).Get(ctx, "vc-vc-life-0", metav1.GetOptions{}); err != nil || pod.Spec.Containers[0].Image != "tenantry-vcluster:v1.37.2" {
		t.Fatalf("the control plane pod did not roll to v1.37.2: %v", err)
	}
	if cp := e.tenant(name).Status.ControlPlane; cp == nil || cp.Version != "v1.37.2" || !cp.Ready {
		t.Fatalf("after the upgrade status.controlPlane = %+v", cp)
	}

	e.write(name, tenantYAML(name, "10", `  kubernetesVersion: "1.36"`))
	e.commitAndSync("downgrade to 1.36")
	ok, msg := e.ready(name)
	if ok || !strings.HasPrefix(msg, v1alpha1.ReasonDowngradeRefused+":") || !strings.Contains(msg, "cannot be downgraded") {
		t.Fatalf("downgrade: ready %v, %q; want refused", ok, msg)
	}
	t.Logf("downgrade refused: %s", msg)
	requireImage(t, e.cs, ns, "tenantry-vcluster:v1.37.2")

	synced := createSyncedPod(t, e.cs, ns, name)
	e.write(name, tenantYAML(name, "10", `  kubernetesVersion: "1.37"`, "  paused: true"))
	e.commitAndSync("pause")
	if c := condition(e.tenant(name), v1alpha1.ConditionReady); c == nil || c.Reason != v1alpha1.ReasonPaused {
		t.Fatalf("paused tenant condition %+v", c)
	}
	requireReplicas(t, e.cs, ns, 0)
	eventually(t, "the synced pod is deleted", func() (bool, error) {
		p, err := e.cs.CoreV1().Pods(ns).Get(ctx, synced, metav1.GetOptions{})
		return apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil), nil
	})

	began = time.Now()
	e.write(name, tenantYAML(name, "10", `  kubernetesVersion: "1.37"`))
	e.commitAndSync("resume")
	e.requireReady(name)
	t.Logf("resume: %s", time.Since(began).Round(time.Millisecond))
	requireReplicas(t, e.cs, ns, 1)
	if cp := e.tenant(name).Status.ControlPlane; cp == nil || !cp.Ready {
		t.Fatalf("after resume status.controlPlane = %+v", cp)
	}
}

func condition(tn *v1alpha1.Tenant, typ string) *metav1.Condition {
	if tn == nil {
		return nil
	}
	return apimeta.FindStatusCondition(tn.Status.Conditions, typ)
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

// createSyncedPod creates a host pod as the syncer would (label syncer.LabelManagedBy).
// It is not bound to a node, so its deletion is immediate.
func createSyncedPod(t *testing.T, cs kubernetes.Interface, ns, vcluster string) string {
	t.Helper()
	small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}
	yes, no := true, false
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-x-default-x-" + vcluster, Labels: map[string]string{syncer.LabelManagedBy: vcluster}},
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

// startKubelet plays the kubelet for ns (binds its pods to a node of its own, marks them
// Running and Ready, finishes deletions) until stop is called or the test ends.
func startKubelet(t *testing.T, cs kubernetes.Interface, ns string) (stop func()) {
	t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + ns}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for kctx.Err() == nil {
			if err := kubeletPass(kctx, cs, ns, node.Name); err != nil && kctx.Err() == nil {
				t.Logf("kubelet: %v", err)
			}
			select {
			case <-kctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	stop = sync.OnceFunc(func() { cancel(); wg.Wait() })
	t.Cleanup(func() {
		stop()
		_ = cs.CoreV1().Nodes().Delete(context.Background(), node.Name, metav1.DeleteOptions{})
	})
	return stop
}

func kubeletPass(ctx context.Context, cs kubernetes.Interface, ns, node string) error {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		switch {
		case p.DeletionTimestamp != nil:
			zero := int64(0)
			err = cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		case p.Spec.NodeName == "" && p.Labels[syncer.LabelManagedBy] == "":
			err = cs.CoreV1().Pods(ns).Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, UID: p.UID},
				Target: corev1.ObjectReference{Kind: "Node", Name: node}}, metav1.CreateOptions{})
		case p.Spec.NodeName != "" && p.Status.Phase != corev1.PodRunning:
			err = markRunning(ctx, cs, p, i)
		}
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("pod %s: %w", p.Name, err)
		}
	}
	return nil
}

func markRunning(ctx context.Context, cs kubernetes.Interface, p *corev1.Pod, i int) error {
	cluster.SetRunning(p, "10.0.0.1", fmt.Sprintf("10.244.0.%d", 10+i%200))
	_, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}
