package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/portforward"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/cli"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestKubeconfigPortForward rolls out a tenant and reaches its virtual API from outside the
// node: `tenantry kubeconfig` prints config-local (server 127.0.0.1), cli.PortForward
// forwards a local port through kube-apiserver, the kubelet and containerd to the control
// plane pod, and `tenantry kubeconfig --port-forward -o FILE` writes a kubeconfig that
// lists the virtual namespaces until it is stopped.
func TestKubeconfigPortForward(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-kc"
	dumpPodLogsOnFailure(t, "tenant-"+name)
	a, took := syncTenant(t, name, tenantYAML(name, "1.37"))
	t.Logf("commit to the tenant's virtual API Ready on the node: %s", took.Round(time.Millisecond))
	tn := readyTenant(t, a, name)
	hostKubeconfig, err := host.WriteKubeconfig(host.Config, "kubeconfig-e2e-kc.yaml")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("print", func(t *testing.T) {
		stdout, stderr, err := runCLI(context.Background(), "kubeconfig", name, "--kubeconfig", hostKubeconfig)
		if err != nil {
			t.Fatalf("tenantry kubeconfig: %v\n%s", err, stderr)
		}
		cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(stdout))
		if err != nil {
			t.Fatalf("output is not a kubeconfig: %v", err)
		}
		if u, err := url.Parse(cfg.Host); err != nil || u.Hostname() != "127.0.0.1" {
			t.Fatalf("server %q, want https://127.0.0.1:<port>", cfg.Host)
		}
		if !strings.Contains(stderr, "tenantry kubeconfig "+name+" --port-forward") {
			t.Fatalf("stderr does not say a port-forward is needed:\n%s", stderr)
		}
		_, _, err = runCLI(context.Background(), "kubeconfig", "no-such-tenant", "--kubeconfig", hostKubeconfig)
		if err == nil || !strings.Contains(err.Error(), "tenant no-such-tenant not found") {
			t.Fatalf("missing tenant: error %v", err)
		}
	})

	t.Run("PortForward", func(t *testing.T) {
		local := secretKubeconfig(t, tn.HostNamespace(), render.KubeconfigSecretName(tn))
		apiPort := urlPort(t, local.Host)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ready := make(chan []portforward.ForwardedPort, 1)
		done := make(chan error, 1)
		began := time.Now()
		go func() {
			done <- cli.PortForward(ctx, host.Config, tn.HostNamespace(), render.VClusterName(tn)+"-0",
				[]string{"127.0.0.1"}, []string{fmt.Sprintf("0:%d", apiPort)}, ready)
		}()
		var ports []portforward.ForwardedPort
		select {
		case ports = <-ready:
		case err := <-done:
			t.Fatalf("port-forward ended before listening: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("port-forward not listening after 30s")
		}
		if len(ports) != 1 || ports[0].Local == 0 || int(ports[0].Remote) != apiPort {
			t.Fatalf("forwarded ports %+v, want one free local port to %d", ports, apiPort)
		}
		local.Host = "https://127.0.0.1:" + strconv.Itoa(int(ports[0].Local))
		requireVirtualNamespaces(t, local)
		t.Logf("port-forward listening and serving the virtual API in %s", time.Since(began).Round(time.Millisecond))
		cancel()
		requireEnded(t, done, int(ports[0].Local))
	})

	t.Run("command --port-forward", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kc.yaml")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		var stdout, stderr string
		go func() {
			var err error
			stdout, stderr, err = runCLI(ctx, "kubeconfig", name, "--kubeconfig", hostKubeconfig, "--port-forward", "--local-port", "0", "-o", path)
			done <- err
		}()
		cfg := waitKubeconfig(t, path, done)
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("kubeconfig file: %v, %v; want mode 0600", st.Mode(), err)
		}
		requireVirtualNamespaces(t, cfg)

		// A client that hangs up mid-stream, as a refused `kubectl exec` did: the kubelet
		// may close the whole forwarded connection; the forward must keep serving.
		hangUp(t, urlPort(t, cfg.Host))
		eventually(t, time.Minute, "the forward serving after a client hung up", func() bool { return virtualNamespacesServed(cfg) }, done)

		// The control plane pod restarts: the forward reconnects on the same port.
		pod := render.VClusterName(tn) + "-0"
		if err := host.Clientset(t).CoreV1().Pods(tn.HostNamespace()).Delete(context.Background(), pod, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitPodReplaced(t, tn.HostNamespace(), pod)
		// Without a volume the new pod has new credentials: the command rewrites the file.
		eventually(t, 3*time.Minute, "the forward serving the restarted control plane with the rewritten kubeconfig", func() bool {
			cfg = readKubeconfig(t, path)
			return virtualNamespacesServed(cfg)
		}, done)

		cancel()
		requireEnded(t, done, urlPort(t, cfg.Host))
		t.Logf("the command's stderr:\n%s", stderr)
		if stdout != "export KUBECONFIG="+path+"\n" || !strings.Contains(stderr, "Forwarding 127.0.0.1:") {
			t.Fatalf("stdout %q, stderr %q", stdout, stderr)
		}
		if !strings.Contains(stderr, "lost the connection to pod "+tn.HostNamespace()+"/"+pod) || !strings.Contains(stderr, "reconnected to pod") ||
			!strings.Contains(stderr, "new credentials; "+path+" rewritten") {
			t.Fatalf("stderr does not say the forward reconnected after the pod restarted:\n%s", stderr)
		}
	})
}

// hangUp opens a connection to the forwarded port, sends the start of a TLS handshake and
// resets the connection mid-stream.
func hangUp(t *testing.T, port int) {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		t.Fatalf("dialling the forward: %v", err)
	}
	_, _ = c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc}) // a ClientHello's first bytes
	time.Sleep(200 * time.Millisecond)
	_ = c.(*net.TCPConn).SetLinger(0) // close with a reset, not a goodbye
	_ = c.Close()
}

// readKubeconfig reads the kubeconfig file at path.
func readKubeconfig(t *testing.T, path string) *rest.Config {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cfg
}

// virtualNamespacesServed reports whether the virtual API answers a read through cfg.
func virtualNamespacesServed(cfg *rest.Config) bool {
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = 10 * time.Second
	virtual, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return false
	}
	_, err = virtual.CoreV1().Namespaces().Get(context.Background(), "kube-system", metav1.GetOptions{})
	return err == nil
}

// eventually polls cond every second until it holds, failing if the forward command ends
// or within is over.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		select {
		case err := <-done:
			t.Fatalf("the forward command ended: %v", err)
		case <-time.After(time.Second):
		}
	}
}

// waitPodReplaced waits until the pod named name is gone and back (a new UID, running).
func waitPodReplaced(t *testing.T, ns, name string) {
	t.Helper()
	pods := host.Clientset(t).CoreV1().Pods(ns)
	old, _ := pods.Get(context.Background(), name, metav1.GetOptions{})
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		p, err := pods.Get(context.Background(), name, metav1.GetOptions{})
		if err == nil && (old == nil || p.UID != old.UID) && p.Status.Phase == "Running" {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("pod %s/%s not replaced and running after 3m", ns, name)
}

// runCLI runs the tenantry command tree with args and returns its stdout and stderr.
func runCLI(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	root := cli.NewRoot(&out, &errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// secretKubeconfig is the rest config of the kubeconfig Secret's config-local.
func secretKubeconfig(t *testing.T, ns, secret string) *rest.Config {
	t.Helper()
	s, err := host.Clientset(t).CoreV1().Secrets(ns).Get(context.Background(), secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data[wellknown.SecretKeyConfigLocal])
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// waitKubeconfig waits for the command to write the kubeconfig at path, failing if it ends first.
func waitKubeconfig(t *testing.T, path string, done <-chan error) *rest.Config {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if data, err := os.ReadFile(path); err == nil {
			cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
			if err != nil {
				t.Fatalf("written kubeconfig: %v", err)
			}
			return cfg
		}
		select {
		case err := <-done:
			t.Fatalf("command ended before writing the kubeconfig: %v", err)
		case <-deadline:
			t.Fatal("no kubeconfig written after 30s")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// requireVirtualNamespaces lists the virtual cluster's namespaces through cfg.
func requireVirtualNamespaces(t *testing.T, cfg *rest.Config) {
	t.Helper()
	if u, err := url.Parse(cfg.Host); err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("server %q, want 127.0.0.1", cfg.Host)
	}
	cfg.Timeout = 20 * time.Second
	virtual, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nss, err := virtual.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing the virtual namespaces through the port-forward: %v", err)
	}
	got := map[string]bool{}
	for _, ns := range nss.Items {
		got[ns.Name] = true
	}
	if !got["default"] || !got["kube-system"] {
		t.Fatalf("virtual namespaces %v, want default and kube-system", got)
	}
}

// requireEnded waits for a stopped forward to return nil and its local port to close.
func requireEnded(t *testing.T, done <-chan error, port int) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("port-forward ended with %v, want nil after stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("port-forward still running 10s after stop")
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("port %d still accepts connections after the forward ended", port)
	}
}

func urlPort(t *testing.T, server string) int {
	t.Helper()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("server %q has no port: %v", server, err)
	}
	return port
}
