package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// streamPods are the tenant's workload for the streaming tests: a busybox toolbox, the
// echo server, a pod that prints a line a second, and one that waits for a line on stdin.
const streamPods = `apiVersion: v1
kind: Pod
metadata: {name: tools}
spec:
  containers:
  - {name: tools, image: ` + localcluster.ToolboxImage + `, imagePullPolicy: Never}
---
apiVersion: v1
kind: Pod
metadata: {name: echo}
spec:
  containers:
  - {name: echo, image: ` + localcluster.EchoImage + `, imagePullPolicy: Never, args: ["serve", "-addr=:8080"], ports: [{containerPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  containers:
  - name: ticker
    image: ` + localcluster.ToolboxImage + `
    imagePullPolicy: Never
    command: ["sh", "-c", "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done"]
---
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  containers:
  - name: reader
    image: ` + localcluster.ToolboxImage + `
    imagePullPolicy: Never
    stdin: true
    stdinOnce: true
    command: ["sh", "-c", "read line; echo got-$line"]
`

// protocols are the two ways kubectl streams: WebSocket (its default) and SPDY (its fallback).
var protocols = []struct{ name, env string }{
	{"websocket", ""},
	{"spdy", "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false"},
}

// TestEverydayKubectl drives a tenant's everyday kubectl against its virtual cluster on
// the real node, through real kubectl and `tenantry kubeconfig --port-forward`: exec with
// output, stderr, stdin and exit codes over WebSocket and SPDY, exec -it on a
// pseudo-terminal with a resize, attach, port-forward serving HTTP, cp in and out, and logs -f.
func TestEverydayKubectl(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-kx"
	dumpPodLogsOnFailure(t, "tenant-"+name)
	a, _ := syncTenant(t, name, tenantYAML(name, "1.37"))
	readyTenant(t, a, name)
	k := tenantKubectl(t, name)
	if _, stderr, err := k.exec(context.Background(), strings.NewReader(streamPods), "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, stderr)
	}
	k.run(t, "wait", "--for=condition=Ready", "pod/tools", "pod/echo", "pod/ticker", "pod/reader", "--timeout=3m")

	for _, p := range protocols {
		t.Run("exec "+p.name, func(t *testing.T) { requireExec(t, k.withEnv(p.env)) })
	}
	t.Run("exec -it", func(t *testing.T) { requireTTY(t, k) })
	t.Run("attach", func(t *testing.T) { requireAttach(t, k) })
	for _, p := range []struct{ name, env string }{{"websocket", ""}, {"spdy", "KUBECTL_PORT_FORWARD_WEBSOCKETS=false"}} {
		t.Run("port-forward "+p.name, func(t *testing.T) { requirePortForward(t, k.withEnv(p.env)) })
	}
	t.Run("cp", func(t *testing.T) { requireCopy(t, k) })
	t.Run("logs -f", func(t *testing.T) { requireFollow(t, k) })
	t.Run("exec into a refused pod", func(t *testing.T) { requireRefusedPodUnreachable(t, k) })
}

// requireExec runs commands in the toolbox and checks stdout, stderr, stdin and the exit code.
func requireExec(t *testing.T, k *kubectl) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stdout, stderr, err := k.exec(ctx, nil, "exec", "tools", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("kubectl exec exit: %v, want exit code 3\nstderr: %s", err, stderr)
	}
	if stdout != "out\n" || !strings.Contains(stderr, "err\n") {
		t.Fatalf("stdout %q, stderr %q; want out and err", stdout, stderr)
	}
	stdout, stderr, err = k.exec(ctx, strings.NewReader("hello through stdin\n"), "exec", "-i", "tools", "--", "cat")
	if err != nil || stdout != "hello through stdin\n" {
		t.Fatalf("kubectl exec -i cat: %q, %v\n%s", stdout, err, stderr)
	}
}

// requireTTY runs a shell on a pseudo-terminal, as a person at a terminal would: the
// remote side sees a terminal of the local size, follows a resize, and the shell's exit
// code comes back.
func requireTTY(t *testing.T, k *kubectl) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := k.command(ctx, "exec", "-it", "tools", "--", "sh")
	term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 33, Cols: 101})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = term.Close() }()
	out := newScreen(term)
	send := func(line string) {
		if _, err := io.WriteString(term, line+"\r"); err != nil {
			t.Fatal(err)
		}
	}
	send("tty; stty size; echo ready-$((6*7))")
	out.wait(t, "/dev/pts/", "33 101", "ready-42")
	if err := pty.Setsize(term, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the resize travels on its own stream
	send("stty size; echo resized-$((2*3))")
	out.wait(t, "40 120", "resized-6")
	send("exit 5")
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 5 {
		t.Fatalf("kubectl exec -it exit: %v, want exit code 5\n%s", err, out.text())
	}
}

// requireAttach attaches to a running container's stdin and stdout: the line sent is read
// by the process already running there, and its answer comes back.
func requireAttach(t *testing.T, k *kubectl) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stdout, stderr, err := k.exec(ctx, strings.NewReader("hello\n"), "attach", "-i", "reader", "-c", "reader")
	if !strings.Contains(stdout, "got-hello") {
		t.Fatalf("kubectl attach -i: %v, stdout %q\nstderr: %s", err, stdout, stderr)
	}
}

// requirePortForward forwards a local port to the echo pod and gets an answer through it.
func requirePortForward(t *testing.T, k *kubectl) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := k.command(ctx, "port-forward", "pod/echo", ":8080")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	m := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`).FindStringSubmatch(line)
	if err != nil || m == nil {
		t.Fatalf("kubectl port-forward printed %q (%v); stderr:\n%s", line, err, stderr.String())
	}
	for i := range 3 { // three connections through one forward
		resp, err := http.Get("http://127.0.0.1:" + m[1] + "/hello")
		if err != nil {
			t.Fatalf("request %d through the forward: %v\nstderr:\n%s", i, err, stderr.String())
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "echo ") {
			t.Fatalf("request %d through the forward: %s %q", i, resp.Status, body)
		}
	}
}

// requireCopy copies a file into the toolbox and back out with kubectl cp.
func requireCopy(t *testing.T, k *kubectl) {
	dir := t.TempDir()
	content := make([]byte, 64<<10)
	_, _ = rand.Read(content)
	in, out := filepath.Join(dir, "in.bin"), filepath.Join(dir, "out.bin")
	if err := os.WriteFile(in, content, 0o600); err != nil {
		t.Fatal(err)
	}
	k.run(t, "cp", in, "tools:/tmp/copied.bin")
	if got := k.run(t, "exec", "tools", "--", "wc", "-c", "/tmp/copied.bin"); !strings.HasPrefix(strings.TrimSpace(got), "65536 ") {
		t.Fatalf("wc -c in the pod: %q, want 65536 bytes", got)
	}
	k.run(t, "cp", "tools:/tmp/copied.bin", out)
	back, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, content) {
		t.Fatalf("copied back %d bytes that differ from the %d sent", len(back), len(content))
	}
}

// requireFollow follows the ticker's log and sees new lines arrive.
func requireFollow(t *testing.T, k *kubectl) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := k.command(ctx, "logs", "-f", "--tail=1", "ticker")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	var seen []string
	for len(seen) < 4 && lines.Scan() {
		seen = append(seen, lines.Text())
	}
	if len(seen) < 4 || seen[0] == seen[3] || !strings.HasPrefix(seen[3], "tick-") {
		t.Fatalf("kubectl logs -f: %q, want new tick lines as they are written", seen)
	}
}

// requireRefusedPodUnreachable: a privileged pod the syncer refused, bound by the tenant to
// the virtual node the other pods run on, has no host copy, so exec into it fails and runs
// nothing anywhere; the forward the tenant came in through keeps serving.
func requireRefusedPodUnreachable(t *testing.T, k *kubectl) {
	node := k.run(t, "get", "pod", "tools", "-o", "jsonpath={.spec.nodeName}")
	refused := `apiVersion: v1
kind: Pod
metadata: {name: sneaky}
spec:
  nodeName: ` + node + `
  containers:
  - {name: c, image: ` + localcluster.ToolboxImage + `, imagePullPolicy: Never, securityContext: {privileged: true}}
`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, stderr, err := k.exec(ctx, strings.NewReader(refused), "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, stderr)
	}
	stdout, stderr, err := k.exec(ctx, nil, "exec", "sneaky", "--", "echo", "escaped")
	if err == nil || strings.Contains(stdout, "escaped") {
		t.Fatalf("kubectl exec into a refused pod: %v, stdout %q; want an error", err, stdout)
	}
	t.Logf("refused as expected: %s", strings.TrimSpace(stderr))
	// The refused stream does not take the tenant's way in down with it.
	if got := k.run(t, "get", "pod", "tools", "-o", "jsonpath={.status.phase}"); got != "Running" {
		t.Fatalf("after the refused exec, pod tools is %q through the same forward, want Running", got)
	}
}

// withEnv is k with extra environment variables for kubectl (none when env is empty).
func (k *kubectl) withEnv(env ...string) *kubectl {
	c := *k
	for _, e := range env {
		if e != "" {
			c.env = append(append([]string(nil), c.env...), e)
		}
	}
	return &c
}

// screen collects what a pseudo-terminal shows.
type screen struct {
	mu  sync.Mutex
	buf strings.Builder
}

func newScreen(r io.Reader) *screen {
	s := &screen{}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *screen) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// wait waits up to 30s until the screen shows every one of want.
func (s *screen) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		text, missing := s.text(), ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal does not show %q after 30s:\n%s", missing, text)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
