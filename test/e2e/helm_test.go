package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/cgi"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler/status"
	"github.com/tenantry/tenantry/test/framework"
)

// helmBin is the pinned real helm CLI `make node` builds (hack/components/helm).
const helmBin = "bin/components/helm/helm"

// installNamespace is where the README installs the agent.
const installNamespace = "tenantry-system"

// TestHelmInstall installs tenantry the way the README's "Install on a real cluster" gives
// it, with the real helm CLI, on its own control plane and node with Gatekeeper: the agent
// runs as a pod with the chart's ServiceAccount, pulls tenants-example from a Git server the
// node reaches, and rolls the example tenants out until Ready with their virtual clusters
// running. `helm upgrade` with changed values rolls the agent; `helm uninstall` leaves the
// tenants, their virtual clusters and data in place, as NOTES says.
func TestHelmInstall(t *testing.T) {
	requireNodeAvailable(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	requireImage(t, "tenantry-vcluster-v1.36.3.tar") // team-b
	requireImage(t, "tenantry-dev.tar")
	helm := requireComponent(t, helmBin, "make node")
	for _, chart := range []string{"tenantry", "vcluster"} {
		requireHelmClean(t, helm, "lint", "../../charts/"+chart)
		requireHelmClean(t, helm, "template", "t", "../../charts/"+chart)
	}
	if err := stopShared(false); err != nil {
		t.Fatalf("stopping the shared node before starting one with Gatekeeper: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	c, err := framework.Start(ctx, localcluster.Options{Node: true, Gatekeeper: true})
	cancel()
	if err != nil {
		t.Fatalf("starting the control plane, node and Gatekeeper: %v", err)
	}
	host = c
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("component logs:\n%s", c.Logs(40))
		}
		c.Cleanup()
		host = nil
		if err := c.NodeCleanupError(); err != nil {
			t.Errorf("the node left something behind: %v", err)
		}
	})
	dumpPodLogsOnFailure(t, installNamespace)
	repo := serveTenantsRepo(t, apiServerIP(t))
	kubeconfig, err := host.WriteKubeconfig(host.Config, "kubeconfig-helm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h := &helmCLI{bin: helm, kubeconfig: kubeconfig}

	// README: Install on a real cluster.
	out := h.run(t, "install", "tenantry", "../../charts/tenantry", "--namespace", installNamespace, "--create-namespace",
		"--set", "image.repository=tenantry", "--set", "image.tag=dev", "--set", "image.pullPolicy=Never",
		"--set", "repo.url="+repo, "--set", "repo.interval=10s", "--wait", "--timeout", "3m")
	if !strings.Contains(out, "helm uninstall leaves") {
		t.Fatalf("NOTES do not say what uninstall leaves:\n%s", out)
	}
	cs := host.Clientset(t)
	first := agentPod(t, cs)
	if first.Spec.ServiceAccountName != "tenantry" {
		t.Fatalf("the agent runs as %q, want the chart's ServiceAccount tenantry", first.Spec.ServiceAccountName)
	}
	began := time.Now()
	waitTenantsReady(t, host.Client(t), 6*time.Minute, "team-a", "team-b", "team-c")
	t.Logf("the example tenants Ready with their virtual clusters %s after helm install returned", time.Since(began).Round(time.Second))

	h.run(t, "upgrade", "tenantry", "../../charts/tenantry", "--namespace", installNamespace, "--reuse-values",
		"--set", "repo.interval=20s", "--wait", "--timeout", "3m")
	rolled := waitAgentRolled(t, cs, first.UID)
	if !strings.Contains(strings.Join(rolled.Spec.Containers[0].Args, " "), "--interval=20s") {
		t.Fatalf("the rolled agent's args %v lack --interval=20s", rolled.Spec.Containers[0].Args)
	}

	h.run(t, "uninstall", "tenantry", "--namespace", installNamespace, "--wait", "--timeout", "3m")
	requireLeftInPlace(t, cs, "team-a", "team-b", "team-c")
}

// requireComponent returns the absolute path of a pinned component binary, failing (the node
// is here, so the tier must run whole) when how has not built it.
func requireComponent(t *testing.T, rel, how string) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing (run `%s`): %v", rel, how, err)
	}
	return bin
}

// requireHelmClean runs helm ARGS and fails on an error or any warning.
func requireHelmClean(t *testing.T, helm string, args ...string) {
	t.Helper()
	out, err := exec.Command(helm, args...).CombinedOutput()
	if err != nil || strings.Contains(string(out), "[WARNING]") || strings.Contains(string(out), "[ERROR]") {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type helmCLI struct{ bin, kubeconfig string }

// run runs helm ARGS against the host within five minutes and returns its output.
func (h *helmCLI) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, append(args, "--kubeconfig", h.kubeconfig)...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("helm %s:\n%s", args[0], out)
	return string(out)
}

// apiServerIP is the host address kube-apiserver listens on: pods on the node reach it.
func apiServerIP(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(host.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	return u.Hostname()
}

// serveTenantsRepo commits tenants-example to a fresh repo and serves it over smart HTTP
// with the real git http-backend on ip, for the agent pod; it returns the clone URL.
func serveTenantsRepo(t *testing.T, ip string) string {
	t.Helper()
	root := t.TempDir()
	work := filepath.Join(root, "tenants")
	if err := os.CopyFS(work, os.DirFS("../../tenants-example")); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."},
		{"-c", "user.name=platform", "-c", "user.email=platform@example.com", "commit", "-q", "-m", "tenants"}} {
		if out, err := exec.Command("git", append([]string{"-C", work}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, err := exec.Command("git", "clone", "-q", "--bare", work, filepath.Join(root, "tenants.git")).CombinedOutput(); err != nil {
		t.Fatalf("git clone --bare: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("the tenants repo needs git: %v", err)
	}
	srv := &http.Server{Handler: &cgi.Handler{Path: git, Args: []string{"http-backend"}, Dir: root,
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/tenants.git"
}

// agentPod is the running, Ready agent pod of the release.
func agentPod(t *testing.T, cs kubernetes.Interface) *corev1.Pod {
	t.Helper()
	pods, err := cs.CoreV1().Pods(installNamespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=tenantry"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pods.Items {
		if p := &pods.Items[i]; p.DeletionTimestamp == nil && localcluster.PodReady(*p) {
			return p
		}
	}
	t.Fatalf("no Ready agent pod among %d", len(pods.Items))
	return nil
}

// waitAgentRolled waits until the only agent pod left is a Ready one other than old.
func waitAgentRolled(t *testing.T, cs kubernetes.Interface, old any) *corev1.Pod {
	t.Helper()
	var rolled *corev1.Pod
	framework.Eventually(t, 3*time.Minute, "the agent rolled to a new pod", func() (bool, error) {
		pods, err := cs.CoreV1().Pods(installNamespace).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=tenantry"})
		if err != nil {
			return false, err
		}
		if len(pods.Items) != 1 || pods.Items[0].UID == old || !localcluster.PodReady(pods.Items[0]) {
			return false, errors.New("the old agent pod is still there, or the new one is not Ready")
		}
		rolled = &pods.Items[0]
		return true, nil
	})
	return rolled
}

// requireLeftInPlace checks, after uninstall, that each tenant's Tenant, namespace and
// virtual cluster are still there and its control plane keeps running, and that the
// syncers' fixed ClusterRoles stay.
func requireLeftInPlace(t *testing.T, cs kubernetes.Interface, names ...string) {
	t.Helper()
	ctx := context.Background()
	time.Sleep(10 * time.Second) // anything the uninstall set off has had time to happen
	all, err := status.ListTenants(ctx, host.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(names) {
		t.Fatalf("%d Tenants after uninstall, want %d", len(all), len(names))
	}
	for _, tn := range all {
		ns := tn.HostNamespace()
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Fatalf("tenant %s's namespace after uninstall: %v", tn.Name, err)
		}
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "vc-"+tn.Name+"-0", metav1.GetOptions{})
		if err != nil || !localcluster.PodReady(*p) {
			t.Fatalf("tenant %s's control plane after uninstall: %v (ready %v)", tn.Name, err, err == nil && localcluster.PodReady(*p))
		}
	}
	for _, role := range []string{"tenantry-vcluster-syncer", "tenantry-agent-tenant"} {
		if _, err := cs.RbacV1().ClusterRoles().Get(ctx, role, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			t.Fatalf("ClusterRole %s was removed by uninstall: running syncers lose their rights", role)
		}
	}
}
