package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/standin"
	"github.com/tenantry/tenantry/syncer/translate"
	"github.com/tenantry/tenantry/test/framework"
)

// TestDebugContainerReachesHost: an ephemeral container added through the virtual
// pods/ephemeralcontainers (kubectl debug) reaches the host pod, translated like any
// container, and its status comes back.
func TestDebugContainerReachesHost(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-debug", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	runningPod("web")(t, tn, ns)

	// A target outside the pod is refused by the virtual API already (the syncer checks
	// it again: see pods.TestEphemeralToHost).
	err := debugContainer(tn, ns, "web", func(c *corev1.EphemeralContainer) { c.TargetContainerName = "kube-proxy" })
	if !apierrors.IsInvalid(err) {
		t.Fatalf("a debug container targeting kube-proxy: %v, want the virtual API to refuse it", err)
	}
	err = debugContainer(tn, ns, "web", func(c *corev1.EphemeralContainer) {
		c.TargetContainerName, c.Command = "app", []string{"sh", "-c", "echo debug-ran"}
		c.Env = []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	hostName := tn.hostName("web", ns)
	framework.Eventually(t, 30*time.Second, "the debug container on the host pod", func() (bool, error) {
		hp, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, hostName, metav1.GetOptions{})
		if err != nil || len(hp.Spec.EphemeralContainers) == 0 {
			return false, err
		}
		c := hp.Spec.EphemeralContainers[0]
		if c.Name != "debugger" || c.TargetContainerName != "app" || c.Command[2] != "echo debug-ran" ||
			envValue(c.Env, "KUBERNETES_SERVICE_HOST") != "10.96.100.1" ||
			c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['"+translate.AnnotationName+"']" {
			t.Fatalf("host debug container %+v", c)
		}
		return true, nil
	})
	kubelet := &standin.Kubelet{Client: tn.h, Node: hostNode}
	_, err = kubelet.UpdateStatus(ctx, tn.hostNS, hostName, func(p *corev1.Pod) {
		p.Status.EphemeralContainerStatuses = []corev1.ContainerStatus{{Name: "debugger", Image: "busybox", ImageID: "busybox@sha256:0",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the debug container's status in the virtual pod", func() (bool, error) {
		vp, err := tn.v.CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		s := vp.Status.EphemeralContainerStatuses
		return len(s) == 1 && s[0].State.Terminated != nil && s[0].State.Terminated.ExitCode == 0, fmt.Errorf("statuses %+v", s)
	})
}

// TestInPlaceUpdatesReachHost: tolerations added, activeDeadlineSeconds set and shortened
// and a resize through the virtual pods/resize follow on the host pod; the resize status
// comes back, and a resize over the host's quota is a SyncError event.
func TestInPlaceUpdatesReachHost(t *testing.T) {
	ctx := context.Background()
	policyToleration := corev1.Toleration{Key: "tenants", Operator: corev1.TolerationOpExists}
	// The tenant file tolerates any gpu taint, so a pod may add a toleration of one.
	gpuGrant := corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	tn := newTenant(t, "team-inplace", v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{policyToleration, gpuGrant}})
	reportNodeCPU(t, "4")
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	logEventsOnFailure(t, tn, ns)
	pod := simplePod("web")
	pod.Spec.Containers[0].Resources = cpu("100m", "200m")
	if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, tn, ns, "web")
	// The API resizes only pods whose kubelet reports container resources (so it can
	// resize them): the host kubelet does, and the virtual pod shows it.
	reportResources(t, tn, ns, "web", nil)

	gpu := corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpEqual, Value: "a100", Effect: corev1.TaintEffectNoSchedule}
	controlPlane := corev1.Toleration{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	updateVirtual(t, tn, ns, "web", func(p *corev1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, gpu, controlPlane)
		p.Spec.ActiveDeadlineSeconds = new(int64(3600))
	})
	waitHostSpec(t, tn, ns, "web", "the added toleration and the deadline", func(s corev1.PodSpec) bool {
		return slices.Contains(s.Tolerations, gpu) && slices.Contains(s.Tolerations, policyToleration) &&
			s.ActiveDeadlineSeconds != nil && *s.ActiveDeadlineSeconds == 3600
	})
	if added, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, tn.hostName("web", ns), metav1.GetOptions{}); err != nil || slices.Contains(added.Spec.Tolerations, controlPlane) {
		t.Fatalf("the host pod took a toleration the tenant file does not grant (err %v): %+v", err, added)
	}
	updateVirtual(t, tn, ns, "web", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(1800)) })
	waitHostSpec(t, tn, ns, "web", "the shortened deadline", func(s corev1.PodSpec) bool {
		return *s.ActiveDeadlineSeconds == 1800
	})

	resizeVirtual(t, tn, ns, "web", cpu("150m", "300m"))
	waitHostSpec(t, tn, ns, "web", "the resized container", func(s corev1.PodSpec) bool {
		r := s.Containers[0].Resources
		return r.Requests.Cpu().Cmp(resource.MustParse("150m")) == 0 && r.Limits.Cpu().Cmp(resource.MustParse("300m")) == 0
	})
	reportResources(t, tn, ns, "web", &corev1.PodCondition{Type: corev1.PodResizeInProgress, Status: corev1.ConditionTrue})

	limitHostCPU(t, tn, "1")
	resizeVirtual(t, tn, ns, "web", cpu("2", "2"))
	waitEvent(t, tn.v, ns, "web", "exceeded quota")
	hp, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, tn.hostName("web", ns), metav1.GetOptions{})
	if err != nil || hp.Spec.Containers[0].Resources.Requests.Cpu().Cmp(resource.MustParse("150m")) != 0 {
		t.Fatalf("host pod after a refused resize: %v, %v", hp.Spec.Containers[0].Resources, err)
	}
}

// logEventsOnFailure logs the events of a virtual namespace when the test fails.
func logEventsOnFailure(t *testing.T, tn *tenant, ns string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		evs, err := tn.v.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Logf("listing events: %v", err)
			return
		}
		for _, e := range evs.Items {
			t.Logf("event %s %s/%s: %s", e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message)
		}
	})
}

func cpu(request, limit string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(request)},
		Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(limit)}}
}

// reportResources plays the host kubelet reporting the first container's resources as its
// spec has them, and a resize condition when given; it waits for the virtual pod to show both.
func reportResources(t *testing.T, tn *tenant, ns, name string, cond *corev1.PodCondition) {
	t.Helper()
	ctx := context.Background()
	kubelet := &standin.Kubelet{Client: tn.h, Node: hostNode}
	hp, err := kubelet.UpdateStatus(ctx, tn.hostNS, tn.hostName(name, ns), func(p *corev1.Pod) {
		if cond != nil {
			c := *cond
			c.LastTransitionTime = metav1.Now()
			p.Status.Conditions = append(p.Status.Conditions, c)
		}
		r := p.Spec.Containers[0].Resources
		p.Status.ContainerStatuses[0].Resources = &r
	})
	if err != nil {
		t.Fatal(err)
	}
	want := hp.Spec.Containers[0].Resources.Requests.Cpu()
	framework.Eventually(t, 30*time.Second, "the reported resources in the virtual pod", func() (bool, error) {
		vp, err := tn.v.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		hasCond := cond == nil || slices.ContainsFunc(vp.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == cond.Type })
		r := vp.Status.ContainerStatuses[0].Resources
		return hasCond && r != nil && r.Requests.Cpu().Cmp(*want) == 0, fmt.Errorf("conditions %v, resources %v", vp.Status.Conditions, r)
	})
}

// reportNodeCPU plays hostNode's kubelet reporting its CPU: the host admits a resize only
// within the node's allocatable resources.
func reportNodeCPU(t *testing.T, cpu string) {
	t.Helper()
	patch := fmt.Sprintf(`{"status":{"capacity":{"cpu":%q},"allocatable":{"cpu":%q}}}`, cpu, cpu)
	_, err := host.Clientset(t).CoreV1().Nodes().Patch(context.Background(), hostNode, types.StrategicMergePatchType, []byte(patch),
		metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatal(err)
	}
}

// limitHostCPU sets a ResourceQuota on CPU requests in the tenant's host namespace.
func limitHostCPU(t *testing.T, tn *tenant, hard string) {
	t.Helper()
	ctx := context.Background()
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "cpu"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceRequestsCPU: resource.MustParse(hard)}}}
	if _, err := tn.h.CoreV1().ResourceQuotas(tn.hostNS).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "quota status.used", func() (bool, error) {
		q, err := tn.h.CoreV1().ResourceQuotas(tn.hostNS).Get(ctx, "cpu", metav1.GetOptions{})
		return err == nil && len(q.Status.Used) > 0, err
	})
}

// updateVirtual changes a virtual pod, retrying on conflicts (the syncer writes it too).
func updateVirtual(t *testing.T, tn *tenant, ns, name string, edit func(*corev1.Pod)) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := tn.v.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		edit(p)
		_, err = tn.v.CoreV1().Pods(ns).Update(ctx, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// resizeVirtual sets the first container's resources through the virtual pods/resize.
func resizeVirtual(t *testing.T, tn *tenant, ns, name string, r corev1.ResourceRequirements) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := tn.v.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		p.Spec.Containers[0].Resources = r
		_, err = tn.v.CoreV1().Pods(ns).UpdateResize(ctx, name, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitHostSpec waits until the host pod's spec satisfies ok.
func waitHostSpec(t *testing.T, tn *tenant, ns, name, what string, ok func(corev1.PodSpec) bool) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, what+" on the host pod", func() (bool, error) {
		hp, err := tn.h.CoreV1().Pods(tn.hostNS).Get(context.Background(), tn.hostName(name, ns), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if !ok(hp.Spec) {
			return false, errors.New("not yet")
		}
		return true, nil
	})
}

func envValue(env []corev1.EnvVar, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
