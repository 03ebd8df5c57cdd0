package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/test/framework"
)

// debugPod is the tenant's pod: the toolbox sleeping, with CPU to resize.
const debugPod = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: ` + localcluster.ToolboxImage + `
    imagePullPolicy: Never
    resources:
      requests: {cpu: 100m}
      limits: {cpu: 200m}
`

// TestDebugAndInPlaceUpdates drives, through the real kubectl as a tenant would, what
// Kubernetes lets change on a running pod: kubectl debug adds an ephemeral container that
// runs on the node (one beyond Pod Security baseline is refused with a SyncError), a
// toleration added with kubectl patch, a CPU resize through pods/resize and kubectl set
// image all reach the host pod, and the node's answers come back to the virtual pod.
func TestDebugAndInPlaceUpdates(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-debug"
	// The tenant file tolerates the debug taint with any effect (granted in defaults.yaml),
	// so the NoSchedule toleration kubectl patch adds below may reach the host pod.
	g := newGitAgent(t, "e2e-"+name)
	g.WriteFile("defaults.yaml", "apiVersion: tenantry.dev/v1alpha1\nkind: TenantDefaults\nspec:\n"+
		"  tenantExceptions: [{tenants: ["+name+"], allowTolerations: true}]\n")
	g.commit(name, tenantYAML(name, "1.37", framework.Spec("  pods:", "    tolerations: [{key: e2e.tenantry.test/debug, operator: Exists}]")))
	g.SyncOK()
	tn := readyTenant(t, g.Agent, name)
	ns := tn.HostNamespace()
	dumpPodLogsOnFailure(t, ns)
	k := tenantKubectl(t, name)
	// The virtual controller manager makes the default service account shortly after start.
	var applyErr string
	eventually(t, time.Minute, "kubectl apply of the pod", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, stderr, err := k.exec(ctx, strings.NewReader(debugPod), "apply", "-f", "-")
		applyErr = stderr
		return err == nil
	}, nil)
	t.Logf("pod applied (last error %q)", applyErr)
	k.run(t, "wait", "--for=condition=Ready", "pod/web", "--timeout=3m")
	hostPod := wellknown.HostName("web", "default", name)

	debugRuns(t, k, ns, hostPod)
	tolerationAdded(t, k, ns, hostPod)
	resized(t, k, ns, hostPod)
	imageSet(t, k, ns, hostPod)
}

// debugRuns: kubectl debug's default profile (SYS_PTRACE) is refused with the reason on a
// SyncError event; the baseline profile's debug container runs on the node, its
// status comes back and kubectl logs shows its output.
func debugRuns(t *testing.T, k *kubectl, ns, hostPod string) {
	t.Helper()
	k.run(t, "debug", "web", "--image="+localcluster.ToolboxImage, "--image-pull-policy=Never", "-c", "ptrace", "--", "sh", "-c", "echo ptrace")
	eventually(t, time.Minute, "a SyncError refusing SYS_PTRACE", func() bool {
		return strings.Contains(k.run(t, "get", "events", "--field-selector", "reason=SyncError,involvedObject.name=web",
			"-o", "jsonpath={.items[*].message}"), "capability SYS_PTRACE is beyond Pod Security baseline")
	}, nil)

	k.run(t, "debug", "web", "--image="+localcluster.ToolboxImage, "--image-pull-policy=Never", "--profile=baseline",
		"-c", "debugger", "--target=app", "--", "sh", "-c", "echo debug-ran")
	eventually(t, 2*time.Minute, "the debug container terminated with 0 in the virtual pod", func() bool {
		return k.run(t, "get", "pod", "web", "-o",
			`jsonpath={.status.ephemeralContainerStatuses[?(@.name=="debugger")].state.terminated.exitCode}`) == "0"
	}, nil)
	if out := k.run(t, "logs", "web", "-c", "debugger"); !strings.Contains(out, "debug-ran") {
		t.Fatalf("kubectl logs web -c debugger: %q", out)
	}
	hp := getHostPod(t, ns, hostPod)
	var names []string
	for _, c := range hp.Spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"debugger"}) || hp.Spec.EphemeralContainers[0].TargetContainerName != "app" {
		t.Fatalf("host pod's ephemeral containers %v (target %q), want only debugger targeting app", names,
			hp.Spec.EphemeralContainers[0].TargetContainerName)
	}
}

// tolerationAdded: a toleration added with kubectl patch, within what the tenant file
// tolerates, reaches the host pod.
func tolerationAdded(t *testing.T, k *kubectl, ns, hostPod string) {
	t.Helper()
	k.run(t, "patch", "pod", "web", "--type=json", "-p",
		`[{"op":"add","path":"/spec/tolerations/-","value":{"key":"e2e.tenantry.test/debug","operator":"Exists","effect":"NoSchedule"}}]`)
	want := corev1.Toleration{Key: "e2e.tenantry.test/debug", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	eventually(t, time.Minute, "the added toleration on the host pod", func() bool {
		return slices.Contains(getHostPod(t, ns, hostPod).Spec.Tolerations, want)
	}, nil)
}

// resized: kubectl patch --subresource resize changes the container's CPU on the host pod,
// the node applies it, and the virtual pod's status shows the new resources.
func resized(t *testing.T, k *kubectl, ns, hostPod string) {
	t.Helper()
	k.run(t, "patch", "pod", "web", "--subresource", "resize", "-p",
		`{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"150m"},"limits":{"cpu":"300m"}}}]}}`)
	eventually(t, 2*time.Minute, "the node running app with the new CPU limit", func() bool {
		hp := getHostPod(t, ns, hostPod)
		r := hp.Spec.Containers[0].Resources
		s := hp.Status.ContainerStatuses[0].Resources
		return r.Limits.Cpu().Cmp(resource.MustParse("300m")) == 0 && s != nil && s.Limits.Cpu().Cmp(resource.MustParse("300m")) == 0
	}, nil)
	eventually(t, time.Minute, "the resized resources in the virtual pod's status", func() bool {
		return k.run(t, "get", "pod", "web", "-o", `jsonpath={.status.containerStatuses[0].resources.limits.cpu}`) == "300m"
	}, nil)
}

// imageSet: kubectl set image changes the image on the host pod, and the node starts a
// container of the new image (the echo server without its arguments exits: only the image
// matters here).
func imageSet(t *testing.T, k *kubectl, ns, hostPod string) {
	t.Helper()
	k.run(t, "set", "image", "pod/web", "app="+localcluster.EchoImage)
	eventually(t, 2*time.Minute, "the node running the new image", func() bool {
		hp := getHostPod(t, ns, hostPod)
		return hp.Spec.Containers[0].Image == localcluster.EchoImage && hp.Status.ContainerStatuses[0].Image == localcluster.EchoImage
	}, nil)
	eventually(t, time.Minute, "the new image in the virtual pod's status", func() bool {
		return k.run(t, "get", "pod", "web", "-o", `jsonpath={.status.containerStatuses[0].image}`) == localcluster.EchoImage
	}, nil)
}

func getHostPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	hp, err := host.Clientset(t).CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("host pod %s: %v", name, err)
	}
	return hp
}
