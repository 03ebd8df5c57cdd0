package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// TestExposureFromOutside exposes an isolated tenant's API server as NodePort, then as
// LoadBalancer, and reaches it from outside the host cluster (this process, on the node's
// address, through kube-proxy) with the kubeconfig `tenantry kubeconfig` prints and real
// kubectl. The exposure NetworkPolicy is what lets it in: deleted, the API is unreachable
// until the drift check restores it. Then Ingress, up to the ingress controller's leg.
// DNS is never exposed.
func TestExposureFromOutside(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	kubectlBin := requireKubectl(t)
	const name = "node-ex"
	ns := "tenant-" + name
	dumpPodLogsOnFailure(t, ns)
	g := newGitAgent(t, "e2e-"+name)
	g.commit(name, tenantYAML(name, "1.37", framework.Spec("  expose:", "    type: NodePort")))
	g.SyncOK()
	tn := readyTenant(t, g.Agent, name)
	nodeIP := host.NodeIP()

	svc := externalService(t, ns, render.ExternalServiceName(tn))
	want := "https://" + net.JoinHostPort(nodeIP, strconv.Itoa(int(svc.Spec.Ports[0].NodePort)))
	if got := tn.Status.ControlPlane.ExternalEndpoint; got != want {
		t.Fatalf("NodePort externalEndpoint %q, want %q", got, want)
	}
	requireNoExposedDNS(t, ns)
	kc := outsideKubeconfig(t, name)
	requireOutsideAccess(t, kubectlBin, kc, true)

	// Without the exposure policy the isolation drops the path; the drift check restores it.
	if err := host.Clientset(t).NetworkingV1().NetworkPolicies(ns).Delete(context.Background(), "tenantry-allow-api-exposure", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := host.NetworkPolicyError(); err != nil {
		t.Logf("the deny half needs the node's NetworkPolicy enforcer: %v", err)
	} else {
		requireOutsideAccess(t, kubectlBin, kc, false)
		t.Log("without the exposure policy the API is unreachable from outside")
	}
	if drifts := g.Agent.CheckDrift(context.Background()); len(drifts) != 1 || drifts[0].Tenant != name {
		t.Fatalf("drift check after deleting the exposure policy: %+v, want drift on %s", drifts, name)
	}
	requireOutsideAccess(t, kubectlBin, kc, true)

	t.Run("LoadBalancer", func(t *testing.T) {
		g.commit(name, tenantYAML(name, "1.37", framework.Spec("  expose:", "    type: LoadBalancer")))
		g.SyncOK()
		// The test bed has no load balancer controller: this stands in for one that, like
		// MetalLB in layer 2 mode, announces an address the node answers on.
		svc := externalService(t, ns, render.ExternalServiceName(tn))
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			t.Fatalf("external Service type %s, want LoadBalancer", svc.Spec.Type)
		}
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: nodeIP}}
		if _, err := host.Clientset(t).CoreV1().Services(ns).UpdateStatus(context.Background(), svc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		g.SyncOK()
		tn := readyTenant(t, g.Agent, name)
		if got, want := tn.Status.ControlPlane.ExternalEndpoint, "https://"+net.JoinHostPort(nodeIP, "443"); got != want {
			t.Fatalf("LoadBalancer externalEndpoint %q, want %q", got, want)
		}
		requireNoExposedDNS(t, ns)
		requireOutsideAccess(t, kubectlBin, outsideKubeconfig(t, name), true)
	})

	t.Run("Ingress", func(t *testing.T) { requireIngressContract(t, g, name) })
}

// requireIngressContract moves the tenant to Ingress exposure and checks what a TLS
// passthrough ingress controller relies on. No ingress controller builds here (README,
// "Exposing the API server"), so the controller's leg itself is not run: the test checks the
// Ingress it would read, that the external Service and its node port are gone, the endpoint
// and kubeconfig `tenantry kubeconfig` prints, and that the virtual API server, reached as
// the controller would pass it through (TLS untouched, SNI the Ingress host), serves a
// certificate for that host to the kubeconfig's client certificate, and for no other name.
func requireIngressContract(t *testing.T, g *gitAgent, name string) {
	const hostName = "node-ex.tenants.example.test"
	ns := "tenant-" + name
	g.commit(name, tenantYAML(name, "1.37", framework.Spec("  expose:", "    type: Ingress",
		"    host: "+hostName, "    ingressClassName: nginx")))
	g.SyncOK()
	tn := readyTenant(t, g.Agent, name)
	if got, want := tn.Status.ControlPlane.ExternalEndpoint, "https://"+hostName; got != want {
		t.Fatalf("Ingress externalEndpoint %q, want %q", got, want)
	}
	ing, err := host.Clientset(t).NetworkingV1().Ingresses(ns).Get(context.Background(), render.VClusterName(tn), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the virtual cluster's Ingress: %v", err)
	}
	requirePassthroughIngress(t, ing, hostName, render.VClusterName(tn))
	if _, err := host.Clientset(t).CoreV1().Services(ns).Get(context.Background(), render.ExternalServiceName(tn), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the external Service after moving to Ingress: %v, want NotFound", err)
	}
	requireNoExposedDNS(t, ns)

	kc, err := clientcmd.LoadFromFile(outsideKubeconfig(t, name))
	if err != nil {
		t.Fatal(err)
	}
	cluster := kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster]
	if cluster.Server != "https://"+hostName || cluster.TLSServerName != "" {
		t.Fatalf("outside kubeconfig server %q (TLS name %q), want https://%s verified as itself", cluster.Server, cluster.TLSServerName, hostName)
	}
	k := tenantKubectl(t, name)
	if out := k.run(t, "get", "namespaces", "-o", "name", "--tls-server-name="+hostName); !strings.Contains(out, "namespace/kube-system") {
		t.Fatalf("kubectl with SNI %s: %q", hostName, out)
	}
	_, stderr, err := k.exec(context.Background(), nil, "get", "namespaces", "--tls-server-name=other.tenants.example.test", "--request-timeout=10s")
	if err == nil || !strings.Contains(stderr, "x509") {
		t.Fatalf("kubectl with another tenant's host name: err %v, stderr %q; want a certificate error", err, stderr)
	}
}

// requirePassthroughIngress checks the Ingress routes the host, and only it, to the virtual
// cluster Service's https port with TLS passed through.
func requirePassthroughIngress(t *testing.T, ing *networkingv1.Ingress, hostName, service string) {
	t.Helper()
	if ing.Annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] != "true" {
		t.Fatalf("Ingress annotations %v: no ssl-passthrough", ing.Annotations)
	}
	if ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName != "nginx" {
		t.Fatalf("Ingress class %v, want nginx", ing.Spec.IngressClassName)
	}
	if ing.Spec.DefaultBackend != nil || len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].Host != hostName {
		t.Fatalf("Ingress rules %+v (default backend %v), want %s alone", ing.Spec.Rules, ing.Spec.DefaultBackend, hostName)
	}
	paths := ing.Spec.Rules[0].HTTP.Paths
	if len(paths) != 1 || paths[0].Backend.Service == nil || paths[0].Backend.Service.Name != service || paths[0].Backend.Service.Port.Name != "https" {
		t.Fatalf("Ingress paths %+v, want / to %s:https", paths, service)
	}
}

func externalService(t *testing.T, ns, name string) *corev1.Service {
	t.Helper()
	svc, err := host.Clientset(t).CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the external Service: %v", err)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 443 {
		t.Fatalf("external Service ports %+v, want 443 alone", svc.Spec.Ports)
	}
	return svc
}

// requireNoExposedDNS fails if any Service of the namespace that reaches outside the host
// (NodePort, LoadBalancer) carries port 53.
func requireNoExposedDNS(t *testing.T, ns string) {
	t.Helper()
	svcs, err := host.Clientset(t).CoreV1().Services(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs.Items {
		if s.Spec.Type == corev1.ServiceTypeClusterIP {
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.Port == 53 || p.TargetPort.String() == "dns" || p.TargetPort.String() == "dns-tcp" {
				t.Fatalf("Service %s (%s) exposes DNS: %+v", s.Name, s.Spec.Type, p)
			}
		}
	}
}

// outsideKubeconfig writes what `tenantry kubeconfig NAME` prints, as a platform user
// outside the host would save it, and checks it needs no port-forward.
func outsideKubeconfig(t *testing.T, name string) string {
	t.Helper()
	hostKubeconfig, err := host.WriteKubeconfig(host.Config, "kubeconfig-e2e-"+name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runCLI(context.Background(), "kubeconfig", name, "--kubeconfig", hostKubeconfig)
	if err != nil {
		t.Fatalf("tenantry kubeconfig: %v\n%s", err, stderr)
	}
	if strings.Contains(stderr, "--port-forward") {
		t.Fatalf("an exposed tenant's kubeconfig asks for a port-forward:\n%s", stderr)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig.yaml")
	if err := os.WriteFile(path, []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// requireOutsideAccess runs `kubectl get namespaces` with the kubeconfig and checks that it
// answers (want) or cannot connect (!want).
func requireOutsideAccess(t *testing.T, bin, kubeconfig string, want bool) {
	t.Helper()
	k := &kubectl{bin: bin, kubeconfig: kubeconfig}
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		stdout, stderr, err := k.exec(ctx, nil, "get", "namespaces", "-o", "name", "--request-timeout=5s")
		cancel()
		served := err == nil && strings.Contains(stdout, "namespace/kube-system")
		if served == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("kubectl get namespaces from outside: served=%v, want %v (%v)\n%s%s", served, want, err, stdout, stderr)
		}
		time.Sleep(2 * time.Second)
	}
}
