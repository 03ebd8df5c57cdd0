package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// saDir is where a pod's service account token, CA and namespace are mounted.
const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// TestTenantWorkloadsRunOnNode creates an echo Deployment and Service inside a tenant's
// virtual cluster: real containers run on the node under host names per the rule, a client
// pod resolves the Service through the virtual cluster's DNS, gets the echo server's answer
// through the ClusterIP and lists pods from the virtual API with its service account token,
// and a pod over the tenant's quota gets a SyncError event carrying the host's refusal.
func TestTenantWorkloadsRunOnNode(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-w"
	a, _ := syncTenant(t, name, tenantYAML(name, "1.37"))
	tn := readyTenant(t, a, name)
	ns := tn.HostNamespace()
	dumpPodLogsOnFailure(t, ns)
	virtual := virtualClient(t, ns, render.VClusterName(tn), render.KubeconfigSecretName(tn))

	vpods, svcIP := runEcho(t, virtual, 2)
	hostPods := requireSyncedContainers(t, ns, name, vpods)
	logRSS(t)

	bindView(t, virtual, "default")
	echoURL := "http://echo.default.svc.cluster.local/hello"
	apiURL := "https://kubernetes.default.svc/api/v1/namespaces/default/pods?labelSelector=app%3Decho"
	out := runVirtualClient(t, virtual, ns, name, "client", "-token="+saDir+"/token", "-ca="+saDir+"/ca.crt", echoURL, apiURL)
	requireVirtualLog(t, virtual, "client", out)
	for _, want := range []string{
		"resolve echo.default.svc.cluster.local: " + svcIP + "\n",
		"GET " + echoURL + ": 200 OK\necho ",
		"GET " + apiURL + ": 200 OK\n",
		`"kind":"PodList"`, hostPods[0].Status.PodIP,
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("client output lacks %q:\n%s", want, out)
		}
	}
	for _, p := range vpods {
		if !strings.Contains(out, `"name":"`+p.Name+`"`) {
			t.Fatalf("the virtual API's pod list read by the client lacks %s:\n%s", p.Name, out)
		}
	}

	overQuota(t, virtual)
}

// runEcho creates the echo Deployment and Service in the virtual cluster's default
// namespace and waits for the pods to be Running and Ready there; it returns them and the
// Service's ClusterIP.
func runEcho(t *testing.T, virtual kubernetes.Interface, replicas int32) ([]corev1.Pod, string) {
	t.Helper()
	ctx := context.Background()
	began := time.Now()
	if _, err := virtual.AppsV1().Deployments("default").Create(ctx, localcluster.EchoDeployment(replicas), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := virtual.CoreV1().Services("default").Create(ctx, localcluster.EchoService(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods := waitPodsRunning(t, virtual, "default", "app=echo", int(replicas))
	t.Logf("virtual Deployment created to %d echo containers Running and Ready on the node: %s", replicas, time.Since(began).Round(time.Millisecond))
	return pods, svc.Spec.ClusterIP
}

// requireSyncedContainers checks that each virtual pod has a host pod named per the rule,
// on the real node, whose pod IP the virtual pod reports, and whose container runs in the
// node's containerd. It returns the host pods.
func requireSyncedContainers(t *testing.T, ns, vcluster string, vpods []corev1.Pod) []corev1.Pod {
	t.Helper()
	ctx := context.Background()
	cs := host.Clientset(t)
	running, err := host.RunningContainers(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, vp := range vpods {
		want := wellknown.HostName(vp.Name, vp.Namespace, vcluster)
		hp, err := cs.CoreV1().Pods(ns).Get(ctx, want, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("host pod for virtual %s/%s: %v", vp.Namespace, vp.Name, err)
		}
		if hp.Spec.NodeName != localcluster.NodeName || hp.Status.PodIP == "" || vp.Status.PodIP != hp.Status.PodIP {
			t.Fatalf("host pod %s on %q with IP %q; the virtual pod shows IP %q", want, hp.Spec.NodeName, hp.Status.PodIP, vp.Status.PodIP)
		}
		if !hasContainer(running, want, "echo") {
			t.Fatalf("no running echo container of %s among the node's containers %+v", want, running)
		}
		out = append(out, *hp)
	}
	return out
}

func hasContainer(list []localcluster.NodeContainer, pod, container string) bool {
	for _, c := range list {
		if c.Pod == pod && c.Name == container {
			return true
		}
	}
	return false
}

// bindView lets the default service account of ns read the virtual cluster (ClusterRole view).
func bindView(t *testing.T, virtual kubernetes.Interface, ns string) {
	t.Helper()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "default-view"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: ns}},
	}
	if _, err := virtual.RbacV1().ClusterRoleBindings().Create(context.Background(), crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// runVirtualClient runs `echo get ARGS...` as a pod of the virtual cluster, waits until the
// virtual pod reports it finished and returns the log of its host pod. It fails the test
// unless the pod succeeded.
func runVirtualClient(t *testing.T, virtual kubernetes.Interface, hostNS, vcluster, name string, args ...string) string {
	t.Helper()
	log, phase := runVirtualClientPhase(t, virtual, hostNS, vcluster, name, args...)
	if phase != corev1.PodSucceeded {
		t.Fatalf("virtual client pod %s %s:\n%s", name, phase, log)
	}
	return log
}

// runVirtualClientPhase is runVirtualClient returning the final phase instead of failing.
func runVirtualClientPhase(t *testing.T, virtual kubernetes.Interface, hostNS, vcluster, name string, args ...string) (string, corev1.PodPhase) {
	t.Helper()
	phase := finishClient(t, virtual, "default", name, append([]string{"-retry=60s"}, args...)...)
	return podLog(t, host.Clientset(t), hostNS, wellknown.HostName(name, "default", vcluster)), phase
}

// requireVirtualLog checks that the virtual API serves a pod's log (`kubectl logs`, through
// the syncer's kubelet API) with the text the host pod's log has.
func requireVirtualLog(t *testing.T, virtual kubernetes.Interface, name, want string) {
	t.Helper()
	began := time.Now()
	got, err := virtual.CoreV1().Pods("default").GetLogs(name, &corev1.PodLogOptions{}).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("virtual pod %s log: %v: %s", name, err, got)
	}
	if string(got) != want {
		t.Fatalf("virtual pod %s log differs from the host pod's:\n--- virtual\n%s\n--- host\n%s", name, got, want)
	}
	t.Logf("virtual pod %s log (%d bytes) equals the host pod's, read in %s", name, len(got), time.Since(began).Round(time.Millisecond))
}

// overQuota creates a pod asking for more CPU than the tenant's quota: the host refuses
// it, and the virtual pod gets a SyncError event with the host's message.
func overQuota(t *testing.T, virtual kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	cpu := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("20")}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "greedy"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "echo", Image: localcluster.EchoImage, ImagePullPolicy: corev1.PullNever, Args: []string{"serve"},
			Resources: corev1.ResourceRequirements{Requests: cpu, Limits: cpu},
		}}},
	}
	if _, err := virtual.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sel := fields.OneTermEqualSelector("involvedObject.name", "greedy").String()
	framework.Eventually(t, time.Minute, "a SyncError event on the over-quota pod", func() (bool, error) {
		evs, err := virtual.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == "SyncError" && strings.Contains(e.Message, "exceeded quota") {
				t.Logf("event on the over-quota pod: %s", e.Message)
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events, none a SyncError with the host's quota message", len(evs.Items))
	})
}
