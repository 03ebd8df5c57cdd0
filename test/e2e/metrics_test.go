package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/syncer/translate"
)

// busyScript holds about 8 MB in a shell variable (so memory shows in whole Mi) and spins.
const busyScript = `x=$(yes | head -c 8000000); while true; do :; done`

// TestTenantKubectlTopAndHPA runs a busy pod in a virtual cluster and, through the real
// kubectl a tenant uses, reads its CPU and memory with `kubectl top pods` (from the host's
// real metrics-server scraping the real kubelet), reads `kubectl top nodes`, and lets a
// HorizontalPodAutoscaler in the virtual cluster scale a Deployment of busy pods up. A host
// pod without the syncer's marks, and one in another namespace carrying them, whose names
// are what the tenant's pod would have on the host, stay invisible to the tenant.
func TestTenantKubectlTopAndHPA(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	requireMetricsServer(t)
	const name = "node-m"
	a, _ := syncTenant(t, name, tenantYAML(name, "1.37"))
	tn := readyTenant(t, a, name)
	ns := tn.HostNamespace()
	dumpPodLogsOnFailure(t, ns)
	hostK := hostKubectl(t)
	began := time.Now()
	topUntil(t, hostK, 3*time.Minute, "top", "pods", "-n", ns, "--no-headers")
	t.Logf("host: kubectl top pods -n %s answers after %s", ns, time.Since(began).Round(time.Second))

	k := tenantKubectl(t, name)
	k.apply(t, busyPod("busy", nil))
	k.run(t, "wait", "--for=condition=Ready", "pod/busy", "--timeout=2m")
	began = time.Now()
	line := topUntil(t, k, 3*time.Minute, "top", "pod", "busy", "--no-headers")
	requireNonZeroTop(t, line)
	t.Logf("tenant: kubectl top pod busy: %q after %s", line, time.Since(began).Round(time.Second))
	m := rawPodMetrics(t, k, "default", "busy")
	cpu, mem := m.Containers[0].Usage[corev1.ResourceCPU], m.Containers[0].Usage[corev1.ResourceMemory]
	if cpu.IsZero() || mem.Value() < 4<<20 {
		t.Fatalf("PodMetrics of busy: cpu %s, memory %s; want non-zero cpu and the 8 MB it holds", cpu.String(), mem.String())
	}
	nodes := topUntil(t, k, time.Minute, "top", "nodes", "--no-headers")
	if !strings.Contains(nodes, localcluster.NodeName) {
		t.Fatalf("kubectl top nodes lacks %s:\n%s", localcluster.NodeName, nodes)
	}
	t.Logf("tenant: kubectl top nodes: %q", nodes)

	requireHostPodsHidden(t, k, hostK, ns, name)
	requireHPAScalesUp(t, k)
}

// requireMetricsServer skips when metrics-server is not built here and fails when it is but
// did not start.
func requireMetricsServer(t *testing.T) {
	t.Helper()
	err := host.MetricsServerError()
	if errors.Is(err, localcluster.ErrNoMetricsServer) {
		t.Skipf("the host needs metrics-server: %v", err)
	}
	if err != nil {
		t.Fatalf("the host's metrics-server failed: %v", err)
	}
}

// hostKubectl is the pinned kubectl bound to the host's admin kubeconfig.
func hostKubectl(t *testing.T) *kubectl {
	t.Helper()
	path, err := host.WriteKubeconfig(host.Config, "kubeconfig-e2e-metrics-host.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &kubectl{bin: requireKubectl(t), kubeconfig: path}
}

// topUntil runs kubectl ARGS until it succeeds with output, returning that output.
func topUntil(t *testing.T, k *kubectl, within time.Duration, args ...string) string {
	t.Helper()
	var out, errOut string
	var err error
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, errOut, err = k.exec(ctx, nil, args...)
		cancel()
		if err == nil && strings.TrimSpace(out) != "" {
			return strings.TrimSpace(out)
		}
		time.Sleep(3 * time.Second)
	}
	t.Fatalf("kubectl %s: not within %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), within, err, out, errOut)
	return ""
}

// requireNonZeroTop fails unless a `kubectl top pod --no-headers` line shows CPU and memory above zero.
func requireNonZeroTop(t *testing.T, line string) {
	t.Helper()
	f := strings.Fields(line)
	if len(f) < 3 || f[1] == "0m" || f[2] == "0Mi" {
		t.Fatalf("kubectl top pod shows no usage: %q", line)
	}
}

// rawPodMetrics reads a PodMetrics through the tenant's kubectl get --raw.
func rawPodMetrics(t *testing.T, k *kubectl, ns, pod string) metricsv1beta1.PodMetrics {
	t.Helper()
	out := k.run(t, "get", "--raw", "/apis/metrics.k8s.io/v1beta1/namespaces/"+ns+"/pods/"+pod)
	var m metricsv1beta1.PodMetrics
	if err := json.Unmarshal([]byte(out), &m); err != nil || len(m.Containers) == 0 {
		t.Fatalf("PodMetrics of %s/%s: %v\n%s", ns, pod, err, out)
	}
	return m
}

// busyPod is a spinning toolbox pod with a small CPU request and limit, as YAML.
func busyPod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       busySpec(),
	}
}

// busySpec spins within a tenth of a core (its request is a fifth of that).
func busySpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{
		Name: "busy", Image: localcluster.ToolboxImage, ImagePullPolicy: corev1.PullNever,
		Command: []string{"sh", "-c", busyScript},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("20m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		},
	}}}
}

// apply pipes obj as JSON to kubectl apply -f -.
func (k *kubectl) apply(t *testing.T, obj any) {
	t.Helper()
	body, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, errOut, err := k.exec(ctx, strings.NewReader(string(body)), "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s%s", err, out, errOut)
	}
}

// requireHostPodsHidden creates, as the host admin, a busy pod in the tenant's namespace
// under the host name of the tenant's virtual pod "spy" without the syncer's marks (so the
// syncer cannot make its own copy), and one in another namespace with every mark naming
// "spy", its UID included; the host's metrics-server has metrics for both, and the tenant
// sees none of them.
func requireHostPodsHidden(t *testing.T, k, hostK *kubectl, ns, vcluster string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(host.Config)
	if err != nil {
		t.Fatal(err)
	}
	hostName := wellknown.HostName("spy", "default", vcluster)
	createHostPod(t, cs, ns, hostName, nil, nil)
	k.apply(t, &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "spy"}, Spec: busySpec()})
	uid := k.run(t, "get", "pod", "spy", "-o", "jsonpath={.metadata.uid}")
	neighbour := vcluster + "-neighbour"
	if err := host.CreateNamespace(context.Background(), neighbour); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), neighbour, metav1.DeleteOptions{}) })
	createHostPod(t, cs, neighbour, hostName, map[string]string{translate.LabelManagedBy: vcluster, translate.LabelNamespace: "default"},
		map[string]string{translate.AnnotationName: "spy", translate.AnnotationNamespace: "default", translate.AnnotationUID: uid})
	for _, hostNS := range []string{ns, neighbour} {
		line := topUntil(t, hostK, 3*time.Minute, "top", "pod", "-n", hostNS, hostName, "--no-headers")
		t.Logf("host: kubectl top pod -n %s %s: %q", hostNS, hostName, line)
	}
	out, errOut, err := k.exec(context.Background(), nil, "top", "pod", "spy", "--no-headers")
	if err == nil || !strings.Contains(errOut, "not found") {
		t.Fatalf("the tenant reads a host pod's metrics: kubectl top pod spy: %v\n%s%s", err, out, errOut)
	}
	all := k.run(t, "get", "--raw", "/apis/metrics.k8s.io/v1beta1/pods")
	var list metricsv1beta1.PodMetricsList
	if err := json.Unmarshal([]byte(all), &list); err != nil {
		t.Fatal(err)
	}
	for _, m := range list.Items {
		if m.Name == "spy" || m.Name == hostName {
			t.Fatalf("the tenant's metrics list holds %s/%s:\n%s", m.Namespace, m.Name, all)
		}
	}
	t.Logf("tenant: kubectl top pod spy refused (%s); the metrics list holds %d pods, not spy", strings.TrimSpace(errOut), len(list.Items))
}

// createHostPod creates a busy pod on the host as its admin.
func createHostPod(t *testing.T, cs kubernetes.Interface, ns, name string, labels, annotations map[string]string) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations}, Spec: busySpec()}
	if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating host pod %s/%s: %v", ns, name, err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	})
}

// requireHPAScalesUp creates a Deployment of one busy pod and, with real kubectl, a CPU
// HorizontalPodAutoscaler (target 50% of the request; the pods spin at five times it) and
// waits until the virtual kube-controller-manager scales it to two.
func requireHPAScalesUp(t *testing.T, k *kubectl) {
	t.Helper()
	labels := map[string]string{"app": "spin"}
	k.apply(t, &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "spin"},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32(1)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: busySpec()}}})
	k.run(t, "rollout", "status", "deployment/spin", "--timeout=2m")
	k.run(t, "autoscale", "deployment", "spin", "--cpu-percent=50", "--min=1", "--max=2")
	began := time.Now()
	deadline := began.Add(4 * time.Minute)
	for {
		replicas := k.run(t, "get", "deployment", "spin", "-o", "jsonpath={.spec.replicas}")
		if replicas == "2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the HPA did not scale spin to 2 within 4m (replicas %s):\n%s", replicas, k.run(t, "describe", "hpa", "spin"))
		}
		time.Sleep(5 * time.Second)
	}
	t.Logf("tenant: the HPA scaled spin to 2 after %s:\n%s", time.Since(began).Round(time.Second), k.run(t, "get", "hpa", "spin"))
}
