package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/reconciler/render"
)

// TestBackupRestore creates objects in a tenant's virtual cluster with real kubectl, saves
// them with `tenantry backup`, loses the data (no volume: the control plane pod is deleted
// and comes back empty), restores with `tenantry restore` and sees the objects again.
func TestBackupRestore(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-bk"
	ns := "tenant-" + name
	dumpPodLogsOnFailure(t, ns)
	a, _ := syncTenant(t, name, tenantYAML(name, "1.37"))
	tn := readyTenant(t, a, name)
	k := tenantKubectl(t, name)
	k.run(t, "create", "namespace", "shop")
	k.run(t, "-n", "shop", "create", "configmap", "settings", "--from-literal=colour=teal")
	k.run(t, "-n", "shop", "create", "secret", "generic", "api-key", "--from-literal=key=k-123")

	hostKubeconfig, err := host.WriteKubeconfig(host.Config, "kubeconfig-e2e-bk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "backup.json")
	_, stderr, err := runCLI(context.Background(), "backup", name, "--kubeconfig", hostKubeconfig, "-o", file)
	if err != nil {
		t.Fatalf("tenantry backup: %v\n%s", err, stderr)
	}
	t.Log(strings.TrimSpace(stderr))
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want mode 0600", st, err)
	}

	// The data goes: no volume, so the new control plane pod starts empty.
	pod := render.VClusterName(tn) + "-0"
	if err := host.Clientset(t).CoreV1().Pods(ns).Delete(context.Background(), pod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPodReplaced(t, ns, pod)
	waitKubectl(t, k, "the empty virtual cluster answering without namespace shop", func(out string, err error) bool {
		return err != nil && strings.Contains(out, "NotFound")
	}, "get", "namespace", "shop")

	_, stderr, err = runCLI(context.Background(), "restore", name, "--kubeconfig", hostKubeconfig, "-f", file)
	if err != nil {
		t.Fatalf("tenantry restore: %v\n%s", err, stderr)
	}
	t.Log(strings.TrimSpace(stderr))
	waitKubectl(t, k, "the restored ConfigMap", func(out string, err error) bool { return err == nil && out == "teal" },
		"-n", "shop", "get", "configmap", "settings", "-o", "jsonpath={.data.colour}")
	if got := k.run(t, "-n", "shop", "get", "secret", "api-key", "-o", "jsonpath={.data.key}"); got != "ay0xMjM=" {
		t.Fatalf("restored Secret key %q, want base64 of k-123", got)
	}
	_, _, err = runCLI(context.Background(), "restore", "node-other", "--kubeconfig", hostKubeconfig, "-f", file)
	if err == nil {
		t.Fatal("restoring tenant node-bk's backup into another tenant: no error")
	}
}

// waitKubectl runs kubectl ARGS every 2s for up to 3 minutes until ok(output, err) holds;
// output is stdout and stderr together.
func waitKubectl(t *testing.T, k *kubectl, what string, ok func(string, error) bool, args ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		stdout, stderr, err := k.exec(ctx, nil, append(args, "--request-timeout=10s")...)
		cancel()
		if ok(stdout+stderr, err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within 3m: %s (last: %v, %s%s)", what, err, stdout, stderr)
		}
		time.Sleep(2 * time.Second)
	}
}
