package e2e

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/test/framework"
)

// TestEchoServiceAnswersThroughClusterIP runs the echo server as a Deployment on the real
// node, puts a Service in front of it and has a client pod call the Service by DNS-free
// ClusterIP: the answer crosses kube-proxy's iptables rules and the CNI bridge.
func TestEchoServiceAnswersThroughClusterIP(t *testing.T) {
	requireNode(t)
	ctx := context.Background()
	cs := host.Clientset(t)
	ns := host.NewNamespace(t)
	began := time.Now()
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, localcluster.EchoDeployment(2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := cs.CoreV1().Services(ns).Create(ctx, localcluster.EchoService(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods := waitPodsRunning(t, cs, ns, "app=echo", 2)
	t.Logf("2 echo pods Running %s after the Deployment was created", time.Since(began).Round(time.Millisecond))
	logRSS(t)
	for _, p := range pods {
		if p.Spec.NodeName != localcluster.NodeName || !strings.HasPrefix(p.Status.PodIP, "10.244.0.") {
			t.Fatalf("pod %s on node %q with IP %q, want %s and an IP in %s", p.Name, p.Spec.NodeName, p.Status.PodIP, localcluster.NodeName, localcluster.PodCIDR)
		}
	}
	url := fmt.Sprintf("http://%s/hello", svc.Spec.ClusterIP)
	out := runClient(t, cs, ns, "client", url)
	if !strings.Contains(out, "GET "+url+": 200 OK") || !strings.Contains(out, "echo echo-") {
		t.Fatalf("client output does not show the echo server's answer through %s:\n%s", url, out)
	}
}

// runClient runs `echo get URLS...` in a pod, waits for it to finish and returns its log;
// it fails the test unless the pod succeeded.
func runClient(t *testing.T, cs kubernetes.Interface, ns, name string, urls ...string) string {
	t.Helper()
	phase := finishClient(t, cs, ns, name, append([]string{"-retry=60s"}, urls...)...)
	log := podLog(t, cs, ns, name)
	if phase != corev1.PodSucceeded {
		t.Fatalf("client pod %s %s:\n%s", name, phase, log)
	}
	return log
}

// finishClient creates pod name in ns running `echo get ARGS...` and waits until it
// finishes; it returns the final phase.
func finishClient(t *testing.T, cs kubernetes.Interface, ns, name string, args ...string) corev1.PodPhase {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{
			Name: "get", Image: localcluster.EchoImage, ImagePullPolicy: corev1.PullNever,
			Args: append([]string{"get"}, args...),
		}}},
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var phase corev1.PodPhase
	framework.Eventually(t, 2*time.Minute, "client pod "+name+" to finish", func() (bool, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		phase = p.Status.Phase
		return phase == corev1.PodSucceeded || phase == corev1.PodFailed, fmt.Errorf("phase %s", phase)
	})
	return phase
}

// podLog reads a pod's log through kube-apiserver and the kubelet.
func podLog(t *testing.T, cs kubernetes.Interface, ns, name string) string {
	t.Helper()
	rc, err := cs.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).Stream(context.Background())
	if err != nil {
		t.Fatalf("reading %s's log: %v", name, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s's log: %v", name, err)
	}
	return string(b)
}

// waitPodsRunning waits until n pods match selector, all Running and Ready.
func waitPodsRunning(t *testing.T, cs kubernetes.Interface, ns, selector string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	framework.Eventually(t, 2*time.Minute, fmt.Sprintf("%d pods %s Running and Ready", n, selector), func() (bool, error) {
		list, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		pods = list.Items
		ready := localcluster.RunningReady(pods)
		return ready == n && len(pods) == n, fmt.Errorf("%d of %d ready", ready, len(pods))
	})
	return pods
}

// logRSS logs the resident memory of every component of the test bed, node included.
func logRSS(t *testing.T) {
	t.Helper()
	var total int64
	var parts []string
	for name, rss := range host.RSS() {
		total += rss
		parts = append(parts, fmt.Sprintf("%s %d MiB", name, rss>>20))
	}
	sort.Strings(parts)
	t.Logf("RSS: %d MiB in all (%s)", total>>20, strings.Join(parts, ", "))
	if pods, err := host.NodePodsRSS(); err != nil {
		t.Logf("RSS of the node's containers: %v", err)
	} else {
		t.Logf("RSS of the node's containers: %d MiB", pods>>20)
	}
}
