package framework

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/cli"
	"github.com/tenantry/tenantry/internal/freeport"
)

// AgentProcess is one `tenantry agent` run in-process through the CLI, as the binary
// runs: flags, /metrics, health endpoints and JSON logs included.
type AgentProcess struct {
	// MetricsURL is its /metrics; HealthURL the root of its health endpoints.
	MetricsURL, HealthURL string
	// Logs is what it printed.
	Logs *Buffer
	// Done receives what the command returned, once; Stop reads it too.
	Done   chan error
	cancel context.CancelFunc
}

// StartAgent runs `tenantry agent` with args after the test bed's defaults: free metrics
// and health addresses, a 500ms poll, a 1s drift check, a 30s health timeout, a work
// directory of the test's and no virtual clusters (the test bed has no kubelet to run
// them). The agent is stopped when the test ends, and its logs shown if the test failed.
func StartAgent(t testing.TB, args ...string) *AgentProcess {
	t.Helper()
	metricsAddr, healthAddr := FreeAddr(t), FreeAddr(t)
	p := &AgentProcess{MetricsURL: "http://" + metricsAddr + "/metrics", HealthURL: "http://" + healthAddr,
		Logs: &Buffer{}, Done: make(chan error, 1)}
	root := cli.NewRoot(p.Logs, p.Logs)
	root.SetArgs(append([]string{"agent", "--metrics-addr", metricsAddr, "--health-addr", healthAddr,
		"--interval", "500ms", "--drift-interval", "1s", "--health-timeout", "30s", "--work-dir", t.TempDir(),
		"--virtual-clusters=false"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.Done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		_ = p.Stop(t) // the test checks the error where it matters
		if t.Failed() {
			t.Logf("agent logs:\n%s", p.Logs.String())
		}
	})
	return p
}

// Stop cancels the agent and waits for it to return; it is safe to call twice, and
// after the test read Done.
func (p *AgentProcess) Stop(t testing.TB) error {
	t.Helper()
	p.cancel()
	select {
	case err, ok := <-p.Done:
		if ok {
			close(p.Done)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not stop within 30s")
	}
	return nil
}

// Metric is the value of the agent's sample name whose labels include labels (see Value);
// it fails the test when /metrics does not answer.
func (p *AgentProcess) Metric(t testing.TB, name string, labels ...string) (float64, bool) {
	t.Helper()
	fams, err := Scrape(p.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	return Value(fams, name, labels...)
}

// WaitMetric waits up to 90s until cond holds for the agent's sample name with labels.
func (p *AgentProcess) WaitMetric(t testing.TB, what, name string, cond func(float64) bool, labels ...string) {
	t.Helper()
	Eventually(t, 90*time.Second, what, func() (bool, error) {
		fams, err := Scrape(p.MetricsURL)
		if err != nil {
			return false, err
		}
		v, ok := Value(fams, name, labels...)
		return ok && cond(v), fmt.Errorf("%s%v = %v (present %v)", name, labels, v, ok)
	})
}

// pollsMetric counts the agent's polls of Git, failed ones included.
const pollsMetric = "tenantry_git_fetch_duration_seconds"

// Polls is how many times the agent has polled Git.
func (p *AgentProcess) Polls(t testing.TB) float64 {
	t.Helper()
	n, _ := p.Metric(t, pollsMetric)
	return n
}

// WaitPolls waits until the agent has polled Git n more times than it had when called.
// The agent's loop is sequential (poll, then a pass when Git moved or a tenant failed),
// so once it returns, every pass that began after the first of those polls has ended,
// for n >= 2: the signal that the agent has seen and acted on what the test changed
// before calling, where the test's point is that nothing (more) happens.
func (p *AgentProcess) WaitPolls(t testing.TB, n int) {
	t.Helper()
	want := p.Polls(t) + float64(n)
	p.WaitMetric(t, fmt.Sprintf("%d more polls of Git", n), pollsMetric, func(v float64) bool { return v >= want })
}

// LogLines are the agent's JSON log lines whose message is msg.
func (p *AgentProcess) LogLines(msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.Logs.String()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// FreeAddr is a free loopback address (host:port) to listen on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

// Buffer is an output that goroutines write and a test reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// RunCLI runs tenantry with args in-process and returns its output (stdout and stderr
// together) and exit code.
func RunCLI(args ...string) (string, int) {
	var out bytes.Buffer
	root := cli.NewRoot(&out, &out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		return out.String(), cli.ExitCode(err)
	}
	return out.String(), 0
}
