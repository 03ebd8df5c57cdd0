package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"time"
)

// Options configures a benchmark run.
type Options struct {
	Tenants []int // tenant counts, e.g. 100 and 1000
	Runs    int   // runs per figure; medians are reported
	// LargeRuns, when set, is the run count for 1,000 tenants or more (each run takes minutes).
	LargeRuns int
	Work      string
	Log       io.Writer
	// PeerLimit caps each wait of a peer run (default 10 minutes).
	PeerLimit time.Duration
	// Node adds the figures on a real node (root, the node's packages, bin/images); where
	// the node cannot start they are left out and the log says why. With no Tenants, Node
	// measures the node figures alone (for -merge).
	Node bool
	// NodeLoad adds, with Node, the pod loads (1,000 pods, and kube-burner's pod-intensive
	// shape) on the node's host, through a tenant's virtual cluster and each peer's.
	NodeLoad bool
	// VCluster adds loft-sh vcluster (the peer built by make peers) to the node figures:
	// the same runs on the same node, with ratios tenantry / vcluster.
	VCluster bool
	// Syncer adds the syncer's figures (SyncerPods pods, default 1,000); with no Tenants,
	// Syncer measures the syncer (and the node, if Node) alone.
	Syncer     bool
	SyncerPods int
	// SyncerHostQPS is the syncer's host client rate limit; 0 keeps client-go's default,
	// as tenantry-vcluster runs.
	SyncerHostQPS float32
}

func (o Options) peerLimit() time.Duration {
	if o.PeerLimit > 0 {
		return o.PeerLimit
	}
	return 10 * time.Minute
}

// AgentResult is what one agent run, in its own process, reports.
type AgentResult struct {
	ColdSeconds   float64 `json:"coldSeconds"`
	NoopSeconds   float64 `json:"noopSeconds"`
	NoopWrites    int     `json:"noopWrites"`
	ChangeSeconds float64 `json:"changeSeconds"`
	ChangeWrites  int     `json:"changeWrites"`
	PeakRSSMiB    float64 `json:"peakRSSMiB"`
	// PeakAnonMiB is the peak of RssAnon, sampled: PeakRSSMiB without the executable's pages.
	PeakAnonMiB  float64 `json:"peakAnonMiB"`
	CPUSeconds   float64 `json:"cpuSeconds"`
	APIServerCPU float64 `json:"apiserverCPUSeconds"`
	EtcdCPU      float64 `json:"etcdCPUSeconds"`
}

// RunAgentChild is the child-process side of an agent run: it measures and prints JSON.
// A process per run keeps peak RSS honest: it is the agent's (plus a small harness).
func RunAgentChild(ctx context.Context, n int, work string, out io.Writer) error {
	// GOMEMLIMIT, as the agent's chart sets it, is the agent's alone: the Go runtime read
	// it at start, and the control plane this process starts must not inherit it.
	_ = os.Unsetenv("GOMEMLIMIT")
	sampling, stop := context.WithCancel(ctx)
	go sampleAnon(sampling)
	r, err := runAgent(ctx, n, work)
	stop()
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(AgentResult{ColdSeconds: r.cold.Seconds(), NoopSeconds: r.noop.Seconds(),
		NoopWrites: r.noopWrites, ChangeSeconds: r.change.Seconds(), ChangeWrites: r.changeWrites, PeakRSSMiB: peakRSS(),
		PeakAnonMiB: anonPeak.Load() / (1 << 20), CPUSeconds: selfCPU(),
		APIServerCPU: r.apiserverCPU, EtcdCPU: r.etcdCPU})
}

func agentInChild(ctx context.Context, n int, work string, log io.Writer) (*AgentResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the bench binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, self, "-agent-run", fmt.Sprint(n), "-work", work)
	cmd.Stderr = log
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("agent run with %d tenants: %w", n, err)
	}
	var r AgentResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("agent run output %q: %w", out, err)
	}
	return &r, nil
}

// Run runs every benchmark and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	rep := &Report{Date: time.Now().UTC(), Machine: fmt.Sprintf("%s/%s, %d CPUs", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())}
	// The node runs first, so a failure there does not discard an hour of other runs.
	var node []Figure
	if o.Node {
		var err error
		if node, err = nodeFigures(ctx, o); err != nil {
			return nil, err
		}
	}
	for _, n := range o.Tenants {
		figs, err := agentFigures(ctx, n, o)
		if err != nil {
			return nil, err
		}
		rep.Figures = append(rep.Figures, figs...)
	}
	rep.Figures = append(rep.Figures, growth(rep.Figures, 1000, 5000)...)
	if len(o.Tenants) > 0 || (!o.Node && !o.Syncer) {
		rep.Figures = append(rep.Figures, gitFigures(ctx, o)...)
		rep.Figures = append(rep.Figures, controlPlaneFigures(ctx, o)...)
	}
	if o.Syncer {
		rep.Figures = append(rep.Figures, syncerFigures(ctx, o)...)
	}
	rep.Figures = append(rep.Figures, node...)
	return rep, nil
}

// curveOnly is the tenant count from which a run is a single one, of tenantry alone: the
// far end of the cost curve (the peers are measured up to 1,000 tenants).
const curveOnly = 5000

func agentFigures(ctx context.Context, n int, o Options) ([]Figure, error) {
	runs := o.Runs
	if n >= 1000 && o.LargeRuns > 0 {
		runs = o.LargeRuns
	}
	if n >= curveOnly {
		fmt.Fprintf(o.Log, "bench: %d tenants: one run, tenantry only\n", n)
		r, err := agentInChild(ctx, n, fmt.Sprintf("%s/agent-%d", o.Work, n), o.Log)
		if err != nil {
			return nil, err
		}
		s := newSamples()
		s.addAgent(r)
		return s.figures(n), nil
	}
	s := newSamples()
	for i := range runs {
		fmt.Fprintf(o.Log, "bench: %d tenants, run %d/%d: tenantry\n", n, i+1, runs)
		r, err := agentInChild(ctx, n, fmt.Sprintf("%s/agent-%d-%d", o.Work, n, i), o.Log)
		if err != nil {
			return nil, err
		}
		s.addAgent(r)
		fmt.Fprintf(o.Log, "bench: %d tenants, run %d/%d: kubectl apply --server-side\n", n, i+1, runs)
		if p, err := runPeer(ctx, n, fmt.Sprintf("%s/peer-%d-%d", o.Work, n, i)); err != nil {
			fmt.Fprintf(o.Log, "bench: peer failed: %v\n", err)
		} else {
			s.add(peerKubectl, "cold", p.cold.Seconds())
			s.add(peerKubectl, "noop", p.noop.Seconds())
		}
		for j, shape := range []fluxShape{fluxPerTenant, fluxAll} {
			fmt.Fprintf(o.Log, "bench: %d tenants, run %d/%d: %s\n", n, i+1, runs, shape)
			r, err := runFlux(ctx, n, fmt.Sprintf("%s/flux%d-%d-%d", o.Work, j, n, i), shape, o.peerLimit(), o.Log)
			s.addFlux(shape, r, err, o.peerLimit())
		}
	}
	return s.figures(n), nil
}

// retiredFigures are names earlier reports carried that a newer figure replaces: the
// bundled control plane's start and RSS are now measured on the real node (nodeFigures),
// and the syncer's figures, once listed as missing, by syncerFigures.
var retiredFigures = []string{"virtual cluster: bundled control plane start to ready, and idle RSS",
	"syncer: 1,000 pods virtual to host, total and p50/p99", "syncer: status back to virtual, p50/p99",
	"syncer: CPU seconds and RSS"}

// DropRetired removes figures whose names are retired, as a merged older report may hold.
func (r *Report) DropRetired() {
	kept := r.Figures[:0]
	for _, f := range r.Figures {
		if !slices.Contains(retiredFigures, f.Name) {
			kept = append(kept, f)
		}
	}
	r.Figures = kept
}
