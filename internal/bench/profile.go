package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// profileEnv names a directory for CPU and heap profiles of an agent run: the agent's own
// (CPU of each phase, heap after it) and kube-apiserver's (the cold pass's first minute).
const profileEnv = "TENANTRY_BENCH_PROFILE"

// apiserverProfileSeconds is how much of the cold pass kube-apiserver's CPU profile covers.
const apiserverProfileSeconds = 60

// phases breaks an agent run into phases (cold, no-op, change) and, for each, logs where
// the time went: every process's CPU seconds and the requests the audit log counted, by
// user, verb and resource. It is how bench/README.md's "where the time goes" is measured.
type phases struct {
	c       *localcluster.Cluster
	log     io.Writer
	dir     string // profiles go here; "" for none
	auditAt int64
	cpuAt   map[string]float64
	began   time.Time
	rssAt   float64 // the agent's peak RSS when the phase began
	stopCPU func()
}

func newPhases(c *localcluster.Cluster, log io.Writer) *phases {
	return &phases{c: c, log: log, dir: os.Getenv(profileEnv)}
}

// measure runs one phase: run's time, and the agent's mutating requests in the phase.
func (p *phases) measure(ctx context.Context, name string, run func() error) (time.Duration, int, error) {
	p.begin(ctx, name)
	start := time.Now()
	if err := run(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", name, err)
	}
	took := time.Since(start)
	writes, err := p.end(name)
	return took, writes, err
}

// begin starts a phase; the cold phase also starts the profiles.
func (p *phases) begin(ctx context.Context, name string) {
	p.began, p.cpuAt, p.rssAt = time.Now(), p.cpu(), peakRSS()
	if _, end, err := p.c.AuditCounts(p.auditAt); err == nil {
		p.auditAt = end
	}
	if p.dir == "" {
		return
	}
	file := strings.ReplaceAll(name, " ", "-")
	p.stopCPU = p.agentCPUProfile(filepath.Join(p.dir, "agent-"+file+".cpu.pprof"))
	if name == "cold" {
		go p.apiserverProfile(ctx, filepath.Join(p.dir, "apiserver-cold.cpu.pprof"))
	}
}

// end logs the phase and returns the agent's mutating requests in it (dry-runs excluded).
func (p *phases) end(name string) (int, error) {
	took := time.Since(p.began)
	if p.stopCPU != nil {
		p.stopCPU()
		p.stopCPU = nil
		p.heapProfile(filepath.Join(p.dir, "agent-"+strings.ReplaceAll(name, " ", "-")+".heap.pprof"))
	}
	counts, end, err := p.c.AuditCounts(p.auditAt)
	if err != nil {
		return 0, err
	}
	p.auditAt = end
	fmt.Fprintf(p.log, "phase %s: %s; CPU seconds %s; agent peak RSS %.0f MiB (%.0f at its start), peak anonymous RSS %.0f MiB\n",
		name, took.Round(time.Millisecond), cpuDelta(p.cpuAt, p.cpu()), peakRSS(), p.rssAt, anonPeak.Load()/(1<<20))
	writes := 0
	for i, n := range counts {
		write := n.User == agentUser && !n.DryRun && isMutating(n.Verb)
		if i < 25 || write { // the top requests, and every write of the agent's
			fmt.Fprintf(p.log, "  %6d  %-32s %-8s %s%s\n", n.N, n.User, n.Verb, n.Resource, map[bool]string{true: " (dry-run)"}[n.DryRun])
		}
		if write {
			writes += n.N
		}
	}
	return writes, nil
}

func isMutating(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

// cpu is each control plane process's CPU seconds so far, and the agent's ("agent").
func (p *phases) cpu() map[string]float64 {
	out := map[string]float64{"agent": selfCPU()}
	for name, pid := range p.c.PIDs() {
		out[name] = processCPU(pid)
	}
	return out
}

func cpuDelta(before, after map[string]float64) string {
	names := make([]string, 0, len(after))
	for n := range after {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f", n, after[n]-before[n]))
	}
	return strings.Join(parts, ", ")
}

func (p *phases) agentCPUProfile(path string) func() {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(p.log, "agent CPU profile: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

func (p *phases) heapProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		_ = f.Close()
	}
	if err != nil {
		fmt.Fprintf(p.log, "agent heap profile: %v\n", err)
	}
}

// apiserverProfile saves kube-apiserver's CPU profile of the next minute (the cluster
// runs with Options.Profiling).
func (p *phases) apiserverProfile(ctx context.Context, path string) {
	cs, err := kubernetes.NewForConfig(p.c.Config)
	if err == nil {
		err = saveCPUProfile(ctx, cs, path, apiserverProfileSeconds)
	}
	if err != nil {
		fmt.Fprintf(p.log, "kube-apiserver CPU profile: %v\n", err)
	}
}

// saveCPUProfile saves the CPU profile of the next seconds of the API server cs talks to.
func saveCPUProfile(ctx context.Context, cs kubernetes.Interface, path string, seconds int) error {
	data, err := cs.Discovery().RESTClient().Get().AbsPath("/debug/pprof/profile").
		Param("seconds", fmt.Sprint(seconds)).Timeout(2 * time.Duration(seconds) * time.Second).DoRaw(ctx)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// anonPeak is the highest RssAnon sampleAnon saw, in bytes: the agent's own memory (heap,
// stacks), without the file-backed pages of the executable that VmHWM also counts (about
// 100 MiB of the 175 MiB bench binary once its packages initialised).
var anonPeak atomicFloat

type atomicFloat struct{ v atomic.Uint64 }

func (a *atomicFloat) Load() float64 { return math.Float64frombits(a.v.Load()) }

func (a *atomicFloat) max(x float64) {
	for {
		old := a.v.Load()
		if x <= math.Float64frombits(old) || a.v.CompareAndSwap(old, math.Float64bits(x)) {
			return
		}
	}
}

// sampleAnon samples this process's RssAnon every 50 ms until ctx ends.
func sampleAnon(ctx context.Context) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		anonPeak.max(procStatusMiB("/proc/self/status", "RssAnon:") * (1 << 20))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
