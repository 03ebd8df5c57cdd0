package vcluster_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controlplane"
	"github.com/tenantry/tenantry/internal/freeport"
	"github.com/tenantry/tenantry/internal/localcluster"
)

// vcluster is one tenantry-vcluster process, run as the pod would run it.
type vcluster struct {
	t          *testing.T
	cfg        controlplane.Config
	configPath string
	kubeconfig string
	logPath    string
	serviceIP  string

	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
}

// newVCluster prepares a tenant namespace, its host Service and a config file for a
// vcluster running the given Kubernetes version.
func newVCluster(t *testing.T, version string, mutate func(*controlplane.Config)) *vcluster {
	t.Helper()
	ctx := context.Background()
	ns := host.NewNamespace(t)
	svc, err := host.Clientset(t).CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "vc"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "vcluster"},
			Ports: []corev1.ServicePort{
				{Name: "https", Port: 443}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kubeconfig, err := host.WriteKubeconfig(host.Config, "host-"+ns+".kubeconfig")
	if err != nil {
		t.Fatal(err)
	}
	v := &vcluster{t: t, kubeconfig: kubeconfig, logPath: filepath.Join(dir, "vcluster.log"), serviceIP: svc.Spec.ClusterIP}
	v.cfg = controlplane.Config{
		Name: "team", HostNamespace: ns, DataDir: filepath.Join(dir, "data"), BinDir: binDir(t, version),
		APIPort: freePort(t), DNSPort: freePort(t), ProbePort: freePort(t), KinePort: freePort(t), ServiceCIDR: "10.96.0.0/16",
		ServiceName: "vc", KubeconfigSecret: "vc-kubeconfig",
		Owners: []v1alpha1.Subject{{Kind: "User", Name: "alice@example.com"}, {Kind: "Group", Name: "team-a"}},
	}
	if mutate != nil {
		mutate(&v.cfg)
	}
	data, err := yaml.Marshal(v.cfg)
	if err != nil {
		t.Fatal(err)
	}
	v.configPath = filepath.Join(dir, "vcluster.yaml")
	if err := os.WriteFile(v.configPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.kill)
	return v
}

// binDir links the pinned binaries of a Kubernetes version and kine into one directory.
func binDir(t *testing.T, version string) string {
	t.Helper()
	components, err := localcluster.ComponentsDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, target := range map[string]string{
		"kube-apiserver":          filepath.Join(components, "kubernetes-"+version, "kube-apiserver"),
		"kube-controller-manager": filepath.Join(components, "kubernetes-"+version, "kube-controller-manager"),
		"kine":                    filepath.Join(components, "kine", "kine"),
	} {
		if _, err := os.Stat(target); err != nil {
			t.Fatalf("component not built (run `make components`): %v", err)
		}
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start runs the process; its output goes to the log file, shown when the test fails.
func (v *vcluster) start() {
	v.t.Helper()
	bin := vclusterBin(v.t)
	logFile, err := os.OpenFile(v.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		v.t.Fatal(err)
	}
	v.cmd = exec.Command(bin, "--config="+v.configPath, "--host-kubeconfig="+v.kubeconfig)
	v.cmd.Stdout, v.cmd.Stderr = logFile, logFile
	v.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	v.started = time.Now()
	if err := v.cmd.Start(); err != nil {
		v.t.Fatal(err)
	}
	v.done = make(chan struct{})
	go func() {
		_ = v.cmd.Wait()
		_ = logFile.Close()
		close(v.done)
	}()
}

// waitReady waits until /readyz answers 200 and returns the time since the process started.
func (v *vcluster) waitReady() time.Duration {
	v.t.Helper()
	url := "http://127.0.0.1:" + strconv.Itoa(v.cfg.ProbePort) + "/readyz"
	deadline := time.Now().Add(3 * time.Minute)
	var last error
	sawUnavailable := false
	for time.Now().Before(deadline) {
		select {
		case <-v.done:
			v.t.Fatalf("tenantry-vcluster exited before ready: %s\n%s", v.cmd.ProcessState, v.logTail(60))
		default:
		}
		if last = httpStatus(url, http.StatusOK); last == nil {
			took := time.Since(v.started)
			v.t.Logf("tenantry-vcluster says: %s; %s", v.grep("kine ready"), v.grep("virtual API ready"))
			if !sawUnavailable {
				v.t.Error("/readyz never answered 503 while starting")
			}
			return took
		}
		sawUnavailable = sawUnavailable || errors.Is(last, errUnavailable)
		time.Sleep(50 * time.Millisecond)
	}
	v.t.Fatalf("not ready after 3m: %v\n%s", last, v.logTail(60))
	return 0
}

// stop sends SIGTERM and requires exit code 0 within 10 s with no child process left.
func (v *vcluster) stop() time.Duration {
	v.t.Helper()
	children := childPIDs(v.cmd.Process.Pid)
	if len(children) < 3 {
		v.t.Errorf("expected kine, kube-apiserver and kube-controller-manager as children, found %v", children)
	}
	began := time.Now()
	if err := v.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		v.t.Fatal(err)
	}
	select {
	case <-v.done:
	case <-time.After(15 * time.Second):
		v.t.Fatalf("still running 15 s after SIGTERM\n%s", v.logTail(40))
	}
	took := time.Since(began)
	if code := v.cmd.ProcessState.ExitCode(); code != 0 {
		v.t.Fatalf("exit code %d after SIGTERM\n%s", code, v.logTail(40))
	}
	if took > 10*time.Second {
		v.t.Errorf("shutdown took %s, want under 10 s", took)
	}
	for pid, comm := range children {
		if alive(pid, comm) {
			v.t.Errorf("child %d (%s) still running after exit", pid, comm)
		}
	}
	return took
}

// kill ends a process a failed test left running, and prints the log when the test failed
// or VCLUSTER_LOG is set.
func (v *vcluster) kill() {
	if v.cmd == nil || v.cmd.Process == nil {
		return
	}
	select {
	case <-v.done:
	default:
		_ = v.cmd.Process.Kill()
		<-v.done
	}
	if v.t.Failed() || os.Getenv("VCLUSTER_LOG") != "" {
		v.t.Logf("tenantry-vcluster log:\n%s", v.logTail(80))
	}
}

// virtual returns a client of the virtual cluster built from the kubeconfig Secret's key.
func (v *vcluster) virtual(key string) kubernetes.Interface {
	v.t.Helper()
	secret, err := host.Clientset(v.t).CoreV1().Secrets(v.cfg.HostNamespace).Get(context.Background(), v.cfg.KubeconfigSecret, metav1.GetOptions{})
	if err != nil {
		v.t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data[key])
	if err != nil {
		v.t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		v.t.Fatal(err)
	}
	return cs
}

func (v *vcluster) logTail(n int) string {
	data, err := os.ReadFile(v.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// grep returns the last log line containing s.
func (v *vcluster) grep(s string) string {
	data, _ := os.ReadFile(v.logPath)
	lines := strings.Split(string(data), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], s) {
			return lines[i]
		}
	}
	return "(no line with " + strconv.Quote(s) + ")"
}

// childPIDs returns the direct children of pid with their command names, from /proc.
func childPIDs(pid int) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, comm, ok := procStat(child)
		if ok && ppid == pid {
			out[child] = comm
		}
	}
	return out
}

// alive reports whether pid still runs the command comm (and is not a zombie).
func alive(pid int, comm string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	end := strings.LastIndexByte(s, ')')
	if end < 0 || !strings.Contains(s[:end], "("+comm) {
		return false
	}
	fields := strings.Fields(s[end+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

func procStat(pid int) (ppid int, comm string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	s := string(data)
	start, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if start < 0 || end < start {
		return 0, "", false
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(fields[1])
	return ppid, s[start+1 : end], err == nil
}

var errUnavailable = errors.New("503 Service Unavailable")

func httpStatus(url string, want int) error {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url) //nolint:noctx // a short probe with a client timeout
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusServiceUnavailable && want != resp.StatusCode {
		return fmt.Errorf("%s: %w", url, errUnavailable)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s: status %d, want %d", url, resp.StatusCode, want)
	}
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return port
}
