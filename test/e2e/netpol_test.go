package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/test/framework"
)

// TestNetworkPolicyIsEnforcedOnNode runs the echo server in namespace A and shows that a
// pod in namespace B reaches it until A gets a NetworkPolicy allowing ingress only from
// A itself; then B's connections to the pod IP and to the Service fail while a pod in A
// still gets answers: the node's enforcer (kube-network-policies) applies the policy.
func TestNetworkPolicyIsEnforcedOnNode(t *testing.T) {
	requireNode(t)
	ctx := context.Background()
	cs := host.Clientset(t)
	nsA, nsB := host.NewNamespace(t), host.NewNamespace(t)
	if _, err := cs.AppsV1().Deployments(nsA).Create(ctx, localcluster.EchoDeployment(1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := cs.CoreV1().Services(nsA).Create(ctx, localcluster.EchoService(), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := waitPodsRunning(t, cs, nsA, "app=echo", 1)[0]
	podURL := fmt.Sprintf("http://%s:8080/hello", pod.Status.PodIP)
	svcURL := fmt.Sprintf("http://%s/hello", svc.Spec.ClusterIP)
	requireAnswered(t, runClient(t, cs, nsB, "b-before", podURL, svcURL), podURL, svcURL)
	t.Logf("without a NetworkPolicy, a pod in %s reaches %s in %s", nsB, podURL, nsA)

	requireNetworkPolicyEnforced(t)
	if _, err := cs.NetworkingV1().NetworkPolicies(nsA).Create(ctx, sameNamespaceOnly(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the enforcer to see the NetworkPolicy", func() (bool, error) {
		return host.NetworkPolicySeen(ctx, nsA, sameNamespaceOnly().Name)
	})
	for name, url := range map[string]string{"b-pod-ip": podURL, "b-service": svcURL} {
		began := time.Now()
		log, phase := runClientPhase(t, cs, nsB, name, "2s", url)
		if phase != corev1.PodFailed || strings.Contains(log, ": 200 OK") {
			t.Fatalf("client %s in %s reached %s through the NetworkPolicy (pod %s):\n%s", name, nsB, url, phase, log)
		}
		t.Logf("with the NetworkPolicy, %s in %s is refused %s after %s: %s", name, nsB, url,
			time.Since(began).Round(time.Millisecond), lastLine(log))
	}
	requireAnswered(t, runClient(t, cs, nsA, "a-after", podURL, svcURL), podURL, svcURL)
	t.Logf("with the NetworkPolicy, a pod in %s still reaches %s and %s", nsA, podURL, svcURL)
}

// requireNetworkPolicyEnforced skips when the node runs without its enforcer because a
// piece is missing here, and fails when the enforcer is there but did not start.
func requireNetworkPolicyEnforced(t *testing.T) {
	t.Helper()
	err := host.NetworkPolicyError()
	if errors.Is(err, localcluster.ErrNoNetworkPolicyEnforcer) {
		t.Skipf("the positive half passed; the deny half needs a NetworkPolicy enforcer: %v", err)
	}
	if err != nil {
		t.Fatalf("the node's NetworkPolicy enforcer failed: %v", err)
	}
}

// sameNamespaceOnly isolates every pod of its namespace for ingress, allowing only pods
// of the same namespace: the shape of tenantry's per-tenant isolation.
func sameNamespaceOnly() *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "same-namespace-only"},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}},
		},
	}
}

// requireAnswered fails unless the client's log shows a 200 from the echo server per URL.
func requireAnswered(t *testing.T, log string, urls ...string) {
	t.Helper()
	for _, url := range urls {
		if !strings.Contains(log, "GET "+url+": 200 OK") {
			t.Fatalf("client output does not show the echo server's answer from %s:\n%s", url, log)
		}
	}
}

// runClientPhase runs `echo get -retry=RETRY URLS...` in a pod and returns its log and
// final phase, failing the test only if the pod does not finish.
func runClientPhase(t *testing.T, cs kubernetes.Interface, ns, name, retry string, urls ...string) (string, corev1.PodPhase) {
	t.Helper()
	phase := finishClient(t, cs, ns, name, append([]string{"-retry=" + retry}, urls...)...)
	return podLog(t, cs, ns, name), phase
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
