package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kubectlBin is the pinned real kubectl `make node` builds (hack/components/kubectl-v1.37.2).
const kubectlBin = "bin/components/kubectl-v1.37.2/kubectl"

// kubectl is the real kubectl bound to a kubeconfig that `tenantry kubeconfig TENANT
// --port-forward -o FILE` writes and keeps serving: a tenant's way in, as a tenant uses it.
type kubectl struct {
	bin, kubeconfig string
	env             []string // extra environment, e.g. to choose kubectl's streaming protocol
}

// tenantKubectl starts `tenantry kubeconfig tenant --port-forward` for the rest of the test
// (stopped at cleanup) and returns kubectl bound to the kubeconfig it writes, once the
// virtual cluster's default namespace can take pods.
func tenantKubectl(t *testing.T, tenant string) *kubectl {
	t.Helper()
	bin := requireKubectl(t)
	hostKubeconfig, err := host.WriteKubeconfig(host.Config, "kubeconfig-e2e-"+tenant+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr string
	go func() {
		var err error
		_, stderr, err = runCLI(ctx, "kubeconfig", tenant, "--kubeconfig", hostKubeconfig, "--port-forward", "--local-port", "0", "-o", path)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tenantry kubeconfig --port-forward: %v", err)
		}
		if t.Failed() {
			t.Logf("tenantry kubeconfig --port-forward stderr:\n%s", stderr)
		}
	})
	cfg := waitKubeconfig(t, path, done)
	eventually(t, time.Minute, "the forwarded virtual API serving", func() bool { return virtualNamespacesServed(cfg) }, done)
	k := &kubectl{bin: bin, kubeconfig: path}
	// Pods are refused until kube-controller-manager has made the default service account.
	k.run(t, "wait", "--for=create", "serviceaccount/default", "--timeout=90s")
	return k
}

// requireKubectl returns the absolute path of the pinned kubectl, failing (not skipping) when
// `make node` has not built it: the node is here, so the e2e tier must run whole.
func requireKubectl(t *testing.T) string {
	t.Helper()
	return requireComponent(t, kubectlBin, "make node")
}

// command is kubectl ARGS as an unstarted command, for tests that wire its input and
// output themselves (a pseudo-terminal, a long-running port-forward).
func (k *kubectl) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.bin, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+k.kubeconfig), k.env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// exec runs kubectl ARGS with stdin (nil for none) and returns what it wrote and its error
// (an *exec.ExitError carries kubectl's exit code).
func (k *kubectl) exec(ctx context.Context, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	cmd := k.command(ctx, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// run runs kubectl ARGS within two minutes, failing the test on an error; it returns stdout.
func (k *kubectl) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stdout, stderr, err := k.exec(ctx, nil, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}
