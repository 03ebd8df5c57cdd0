package bench

import (
	"fmt"

	"github.com/tenantry/tenantry/controlplane"
)

// syncerFigure is one syncer figure: its name and unit, and its value in a run.
type syncerFigure struct {
	name, unit, note string
	value            func(syncerRun) float64
}

// syncerFigureList is every syncer figure, named for n pods.
func syncerFigureList(n int) []syncerFigure {
	pods := podsLabel(n)
	return []syncerFigure{
		{"syncer: " + pods + " virtual to host, total", "s", "from the first create until the last host pod is seen",
			func(r syncerRun) float64 { return r.toHostTotal.Seconds() }},
		{"syncer: " + pods + " created to all Running in the virtual cluster", "s", "from the first create until the last virtual pod is seen Running",
			func(r syncerRun) float64 { return r.runningTotal.Seconds() }},
		{"syncer: pod virtual to host, p50 (" + pods + ")", "s", "virtual create returned to host pod seen, per pod",
			func(r syncerRun) float64 { return percentile(r.toHost, 50) }},
		{"syncer: pod virtual to host, p99 (" + pods + ")", "s", "as above",
			func(r syncerRun) float64 { return percentile(r.toHost, 99) }},
		{"syncer: status back to virtual, p50 (" + pods + ")", "s", "host status write (Running, Ready) returned to virtual pod seen Running, per pod; includes the virtual bind",
			func(r syncerRun) float64 { return percentile(r.back, 50) }},
		{"syncer: status back to virtual, p99 (" + pods + ")", "s", "as above",
			func(r syncerRun) float64 { return percentile(r.back, 99) }},
		{"syncer: CPU seconds (" + pods + ")", "s", "user+system CPU of the syncer's process from after a warm-up pod until all pods Running",
			func(r syncerRun) float64 { return r.cpu }},
		{"syncer: peak RSS (" + pods + ")", "MiB", "VmHWM of the syncer's process at the end of the run",
			func(r syncerRun) float64 { return r.rssMiB }},
	}
}

// syncerRunFigures are the medians over runs; percentiles are per run.
func syncerRunFigures(n int, hostQPS float32, runs []syncerRun) []Figure {
	var out []Figure
	for _, sf := range syncerFigureList(n) {
		var values []float64
		for _, r := range runs {
			values = append(values, sf.value(r))
		}
		f := measured(sf.name, sf.unit, "", values)
		f.Note = sf.note + "; " + syncerSetup(hostQPS)
		out = append(out, f)
	}
	return out
}

// syncerSetup says what a syncer run is made of.
func syncerSetup(hostQPS float32) string {
	limit := fmt.Sprintf("%d QPS, burst %d, as tenantry-vcluster runs", controlplane.HostQPS, controlplane.HostBurst)
	if hostQPS > 0 {
		limit = fmt.Sprintf("%g QPS, burst %d", hostQPS, int(2*hostQPS))
	}
	return fmt.Sprintf("syncer in its own process, host client at %s; pods created directly (no controller manager), %d at a time; no real kubelet: a stand-in binds and marks host pods Running",
		limit, syncerConcurrency)
}

// syncerMissing is every syncer figure, missing for why.
func syncerMissing(n int, why string) []Figure {
	var out []Figure
	for _, sf := range syncerFigureList(n) {
		out = append(out, Figure{Name: sf.name, Missing: why})
	}
	return out
}

// podsLabel is "1,000 pods" for 1000.
func podsLabel(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " pods"
}
