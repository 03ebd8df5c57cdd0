package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// smallTenantYAML is issue 16's held-out tenant: its LimitRange gives containers a 100m
// default CPU limit, below the control plane's request.
func smallTenantYAML(name string) string {
	return framework.TenantYAML(name, framework.Persistence("0"), framework.CPU("8"),
		framework.DefaultLimit("cpu", "100m"), framework.DefaultRequest("cpu", "50m"))
}

const serviceCount = 20

// TestServicesReachHostWithTheirClusterIP follows the README's path with the agent's
// defaults (the service CIDR discovered, not set): a tenant whose LimitRange has a 100m
// default CPU limit runs its control plane, and 20 Services created in its virtual cluster
// (kubectl create deployment + expose) all reach the host with the same ClusterIP, and a
// client pod reaches each by its DNS name.
func TestServicesReachHostWithTheirClusterIP(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-svc"
	a, _ := syncTenant(t, name, smallTenantYAML(name))
	tn := readyTenant(t, a, name)
	ns := tn.HostNamespace()
	dumpPodLogsOnFailure(t, ns)
	virtual := virtualClient(t, ns, render.VClusterName(tn), render.KubeconfigSecretName(tn))

	urls := createServices(t, virtual)
	requireSameClusterIPs(t, virtual, ns, name)
	waitPodsRunning(t, virtual, "default", "app=echo", 1)

	out := runVirtualClient(t, virtual, ns, name, "client", urls...)
	for _, u := range urls {
		if !strings.Contains(out, "GET "+u+": 200 OK") {
			t.Fatalf("the client did not reach %s:\n%s", u, out)
		}
	}
}

// createServices creates the echo Deployment (one replica) and serviceCount Services in
// front of it on port 8080 in the virtual cluster's default namespace, as
// `kubectl create deployment` and `kubectl expose` would; it returns their URLs.
func createServices(t *testing.T, virtual kubernetes.Interface) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := virtual.AppsV1().Deployments("default").Create(ctx, localcluster.EchoDeployment(1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	urls := make([]string, serviceCount)
	for i := range serviceCount {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("frontend-%d", i)}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "echo"},
			Ports:    []corev1.ServicePort{{Port: 8080, TargetPort: intstr.FromInt32(8080)}}}}
		if _, err := virtual.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		urls[i] = fmt.Sprintf("http://frontend-%d.default.svc.cluster.local:8080/hello", i)
	}
	return urls
}

// requireSameClusterIPs waits until every virtual Service has a host Service with the same
// ClusterIP.
func requireSameClusterIPs(t *testing.T, virtual kubernetes.Interface, hostNS, vcluster string) {
	t.Helper()
	ctx, hostCS := context.Background(), host.Clientset(t)
	framework.Eventually(t, 2*time.Minute, "every Service on the host with its ClusterIP", func() (bool, error) {
		for i := range serviceCount {
			name := fmt.Sprintf("frontend-%d", i)
			v, err := virtual.CoreV1().Services("default").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			h, err := hostCS.CoreV1().Services(hostNS).Get(ctx, wellknown.HostName(name, "default", vcluster), metav1.GetOptions{})
			if err != nil {
				return false, fmt.Errorf("%s on the host: %w", name, err)
			}
			if v.Spec.ClusterIP == "" || h.Spec.ClusterIP != v.Spec.ClusterIP {
				return false, fmt.Errorf("%s: virtual ClusterIP %q, host %q", name, v.Spec.ClusterIP, h.Spec.ClusterIP)
			}
		}
		return true, nil
	})
}
