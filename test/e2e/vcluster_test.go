package e2e

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestTenantControlPlaneRunsOnNode has the agent roll out a tenant whose StatefulSet pod
// runs our bundled image on the real node; the Tenant turns Ready, and the virtual API,
// reached with the kubeconfig Secret's config-local through a port-forward, lists its
// namespaces.
func TestTenantControlPlaneRunsOnNode(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-a"
	dumpPodLogsOnFailure(t, "tenant-"+name)
	a, took := syncTenant(t, name, tenantYAML(name, "1.37"))
	t.Logf("commit to the tenant's virtual API Ready on the node: %s", took.Round(time.Millisecond))
	tn := readyTenant(t, a, name)
	logRSS(t)
	virtual := virtualClient(t, tn.HostNamespace(), render.VClusterName(tn), render.KubeconfigSecretName(tn))
	nss, err := virtual.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing the virtual cluster's namespaces: %v", err)
	}
	got := map[string]bool{}
	for _, ns := range nss.Items {
		got[ns.Name] = true
	}
	if !got["default"] || !got["kube-system"] {
		t.Fatalf("virtual namespaces %v, want default and kube-system", got)
	}
}

// virtualClient reads the tenant's config-local kubeconfig (server https://127.0.0.1:PORT,
// for a port-forward) and dials the control plane pod's PORT inside the node instead,
// as a port-forward would.
func virtualClient(t *testing.T, ns, fullname, secret string) kubernetes.Interface {
	t.Helper()
	cs := host.Clientset(t)
	s, err := cs.CoreV1().Secrets(ns).Get(context.Background(), secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data[wellknown.SecretKeyConfigLocal])
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	pod, err := cs.CoreV1().Pods(ns).Get(context.Background(), fullname+"-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	target := net.JoinHostPort(pod.Status.PodIP, u.Port())
	cfg.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return host.DialNode(ctx, network, target)
	}
	virtual, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return virtual
}

// requireImage skips the test, saying how to build it, when bin/images lacks an image
// (the node imports what is there when it starts).
func requireImage(t *testing.T, file string) {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "..", "..", "bin", "images", file)); err != nil {
		t.Skipf("needs bin/images/%s (run `make images`): %v", file, err)
	}
}

// dumpPodLogsOnFailure logs, when the test has failed, the status and log tail of every
// pod in ns, read through the kubelet before the node goes.
func dumpPodLogsOnFailure(t *testing.T, ns string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		cs := host.Clientset(t)
		pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Logf("listing pods of %s: %v", ns, err)
			return
		}
		dumpServices(t, cs, ns)
		for _, p := range pods.Items {
			t.Logf("pod %s: IP %s, labels %v", p.Name, p.Status.PodIP, p.Labels)
			for _, c := range p.Status.ContainerStatuses {
				t.Logf("pod %s container %s: ready %v, restarts %d, state %+v", p.Name, c.Name, c.Ready, c.RestartCount, c.State)
			}
			raw, err := cs.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{TailLines: ptr.To[int64](80)}).DoRaw(context.Background())
			t.Logf("log of %s (err %v):\n%s", p.Name, err, raw)
		}
	})
}

// dumpServices logs the Services of ns with their selectors and endpoint slices.
func dumpServices(t *testing.T, cs kubernetes.Interface, ns string) {
	ctx := context.Background()
	svcs, err := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("listing services of %s: %v", ns, err)
		return
	}
	for _, s := range svcs.Items {
		t.Logf("service %s: %s, selector %v, ports %+v", s.Name, s.Spec.ClusterIP, s.Spec.Selector, s.Spec.Ports)
	}
	slices, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Logf("listing endpoint slices of %s: %v", ns, err)
		return
	}
	for _, s := range slices.Items {
		t.Logf("endpoint slice %s (%s): %+v ports %+v", s.Name, s.Labels["kubernetes.io/service-name"], s.Endpoints, s.Ports)
	}
}
