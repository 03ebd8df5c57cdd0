package bench

import (
	"context"
	"fmt"
	"io"
)

// loadFigure is one figure of the pod loads: its metric, name and unit, and its value in a run.
type loadFigure struct {
	metric, name, unit, note string
	value                    func(loadRun) float64
}

// loadFigureList is every figure of the pod loads.
func loadFigureList() []loadFigure {
	pods, intensive := podsLabel(loadPods), fmt.Sprintf("pod-intensive, %d × %d Deployments", intensiveNamespaces, intensiveDeployments)
	return []loadFigure{
		{"load-pods-created", "node load: " + pods + " created in the virtual cluster, total", "s", "from the first create until the last create returned (the bench's client, 20 at a time)",
			func(r loadRun) float64 { return r.pods.createdTotal.Seconds() }},
		{"load-pods-host", "node load: " + pods + " virtual to host, total", "s", "from the first create until the last host pod is seen",
			func(r loadRun) float64 { return r.pods.toHostTotal.Seconds() }},
		{"load-pods-running", "node load: " + pods + " created to all Running in the virtual cluster", "s", "from the first create until the last virtual pod is seen Running and Ready",
			func(r loadRun) float64 { return r.pods.runningTotal.Seconds() }},
		{"load-pods-host-p50", "node load: pod virtual to host, p50 (" + pods + ")", "s", "virtual create returned to host pod seen, per pod",
			func(r loadRun) float64 { return percentile(r.pods.toHost, 50) }},
		{"load-pods-host-p99", "node load: pod virtual to host, p99 (" + pods + ")", "s", "as above",
			func(r loadRun) float64 { return percentile(r.pods.toHost, 99) }},
		{"load-pods-back-p50", "node load: status back to virtual, p50 (" + pods + ")", "s", "stand-in's status write returned to virtual pod seen Running and Ready, per pod",
			func(r loadRun) float64 { return percentile(r.pods.back, 50) }},
		{"load-pods-back-p99", "node load: status back to virtual, p99 (" + pods + ")", "s", "as above",
			func(r loadRun) float64 { return percentile(r.pods.back, 99) }},
		{"load-intensive", "node load: " + intensive + ", all Ready", "s", "from the first Deployment's create until the last pod is Running and Ready in the virtual cluster",
			func(r loadRun) float64 { return r.intensive.total.Seconds() }},
		{"load-intensive-p50", "node load: " + intensive + ", pod Ready latency p50", "s", "pod first seen in the virtual cluster to Running and Ready there (kube-burner's podLatency Ready)",
			func(r loadRun) float64 { return percentile(r.intensive.ready, 50) }},
		{"load-intensive-p99", "node load: " + intensive + ", pod Ready latency p99", "s", "as above",
			func(r loadRun) float64 { return percentile(r.intensive.ready, 99) }},
		{"load-rss", "node load: control plane RSS after the loads", "MiB", "total_rss of the control plane pod's container cgroups after both loads",
			func(r loadRun) float64 { return r.rss }},
	}
}

// loadSetup says how the loads run.
const loadSetup = "on the real node's host, its real node cordoned once the control plane runs; no container runs: the host scheduler binds the loads' pods (they tolerate its taint) to a Node a kubelet stand-in keeps Ready, and the stand-in reports them Running, for both systems alike"

// loadFigures runs the loads o.Runs times on each system, the first being tenantry, and
// returns every system's figures, tenantry's with its ratio to each other system.
func loadFigures(ctx context.Context, o Options, systems []loadSystem) []Figure {
	runs := map[string][]loadRun{}
	missing := map[string]string{}
	for i := 1; i <= o.Runs; i++ {
		for _, sys := range systems {
			if missing[sys.system()] != "" {
				continue
			}
			fmt.Fprintf(o.Log, "bench: node load on %s, run %d/%d\n", sys.system(), i, o.Runs)
			r, err := runLoadSystem(ctx, sys, o.Log)
			if err != nil {
				fmt.Fprintf(o.Log, "bench: node load on %s failed: %v\n", sys.system(), err)
				missing[sys.system()] = err.Error()
				continue
			}
			logLoadRun(o.Log, sys.system(), r)
			runs[sys.system()] = append(runs[sys.system()], *r)
		}
	}
	return loadRunFigures(systems, runs, missing)
}

func logLoadRun(log io.Writer, system string, r *loadRun) {
	fmt.Fprintf(log, "bench: node load on %s: %d pods created in %.1f s, on the host in %.1f s (p50 %.2f, p99 %.2f s), Running in %.1f s; pod-intensive all Ready in %.1f s (p50 %.2f, p99 %.2f s); RSS %.0f MiB; the stand-in reported pods Ready again %d times\n",
		system, loadPods, r.pods.createdTotal.Seconds(), r.pods.toHostTotal.Seconds(), percentile(r.pods.toHost, 50), percentile(r.pods.toHost, 99), r.pods.runningTotal.Seconds(),
		r.intensive.total.Seconds(), percentile(r.intensive.ready, 50), percentile(r.intensive.ready, 99), r.rss,
		r.pods.reasserted+r.intensive.reasserted)
	fmt.Fprintf(log, "bench: node load on %s: pods created/on the host/Running by: %s\n", system, r.pods.progress)
	fmt.Fprintf(log, "bench: node load on %s: CPU seconds while the %d pods went round, by process: %s\n", system, loadPods, r.pods.processes)
}

// loadRunFigures turns the runs into figures: medians per system, percentiles per run.
func loadRunFigures(systems []loadSystem, runs map[string][]loadRun, missing map[string]string) []Figure {
	var out []Figure
	for _, lf := range loadFigureList() {
		var figs []Figure
		for _, sys := range systems {
			f := Figure{Name: lf.name + " [" + sys.system() + "]", Unit: lf.unit, System: sys.system(), Metric: lf.metric,
				Note: lf.note + "; " + loadSetup}
			if why := missing[sys.system()]; why != "" {
				f.Missing = why
			} else {
				var values []float64
				for _, r := range runs[sys.system()] {
					values = append(values, lf.value(r))
				}
				f.Runs, f.Value = values, median(values)
			}
			figs = append(figs, f)
		}
		for _, peer := range figs[1:] {
			figs[0] = withRatio(figs[0], peer.System, peer)
		}
		out = append(out, figs...)
	}
	return out
}
