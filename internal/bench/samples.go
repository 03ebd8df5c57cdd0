package bench

import (
	"fmt"
	"time"
)

// The systems a run measures side by side.
const (
	systemTenantry = "tenantry"
	peerKubectl    = "kubectl apply --server-side"
)

// metric is one measured quantity of a system.
type metric struct {
	key, label, unit string
}

var metrics = []metric{
	{"cold", "cold reconcile", "s"},
	{"noop", "no-op pass", "s"},
	{"noopWrites", "no-op pass mutating requests", "requests"},
	{"change", "one-tenant change, commit to applied", "s"},
	{"changeWrites", "one-tenant change mutating requests", "requests"},
	{"rss", "controller peak RSS", "MiB"},
	{"anon", "controller peak anonymous RSS (RSS without the executable's pages)", "MiB"},
	{"cpu", "controller CPU", "s"},
	{"apiserverCPU", "kube-apiserver CPU", "s"},
	{"etcdCPU", "etcd CPU", "s"},
}

// targets are the targets for tenantry at 1,000 tenants.
var targets = map[string]string{"cold": "≤ 120 s (goal 60 s)", "noop": "≤ 1.5 s", "noopWrites": "0", "change": "≤ 2 s",
	"changeWrites": "≤ changed objects + 3", "rss": "≤ 200 MiB (goal 150 MiB)"}

// samples holds every run's values per system and metric, and why a peer has none.
type samples struct {
	values  map[string]map[string][]float64
	missing map[string]map[string]string
}

func newSamples() *samples {
	return &samples{values: map[string]map[string][]float64{}, missing: map[string]map[string]string{}}
}

func (s *samples) add(system, key string, v float64) {
	if s.values[system] == nil {
		s.values[system] = map[string][]float64{}
	}
	s.values[system][key] = append(s.values[system][key], v)
}

func (s *samples) miss(system, key, why string) {
	if s.missing[system] == nil {
		s.missing[system] = map[string]string{}
	}
	s.missing[system][key] = why
}

func (s *samples) addAgent(r *AgentResult) {
	for key, v := range map[string]float64{"cold": r.ColdSeconds, "noop": r.NoopSeconds, "noopWrites": float64(r.NoopWrites),
		"change": r.ChangeSeconds, "changeWrites": float64(r.ChangeWrites), "rss": r.PeakRSSMiB, "anon": r.PeakAnonMiB, "cpu": r.CPUSeconds, "apiserverCPU": r.APIServerCPU, "etcdCPU": r.EtcdCPU} {
		s.add(systemTenantry, key, v)
	}
}

// addFlux records a Flux run; a run cut by the limit reports how far it got.
func (s *samples) addFlux(shape fluxShape, r *fluxRun, err error, limit time.Duration) {
	sys := string(shape)
	if err != nil && r == nil {
		for _, m := range metrics {
			s.miss(sys, m.key, err.Error())
		}
		return
	}
	s.add(sys, "rss", r.usage.rssMiB)
	if r.applied < r.total || err != nil {
		why := fmt.Sprintf("%d of %d Kustomizations applied at %.0f s (limit %s)", r.applied, r.total, r.cold.Seconds(), limit)
		if err != nil {
			why += ": " + err.Error()
		}
		for _, key := range []string{"cold", "noop", "noopWrites", "change", "changeWrites", "cpu", "apiserverCPU", "etcdCPU"} {
			s.miss(sys, key, why)
		}
		return
	}
	for key, v := range map[string]float64{"cold": r.cold.Seconds(), "noop": r.noop.Seconds(), "noopWrites": float64(r.noopWrites),
		"change": r.change.Seconds(), "cpu": r.usage.cpuSeconds, "apiserverCPU": r.usage.apiserverCPU, "etcdCPU": r.usage.etcdCPU} {
		s.add(sys, key, v)
	}
}

// figures are tenantry's figures with their ratios to each peer, then the peers'.
func (s *samples) figures(n int) []Figure {
	peers := []string{peerKubectl, string(fluxPerTenant), string(fluxAll)}
	var mine, theirs []Figure
	for _, m := range metrics {
		f := s.figure(systemTenantry, m, n)
		if n == 1000 {
			f.Target = targets[m.key]
		}
		for _, p := range peers {
			pf, ok := s.peerFigure(p, m, n)
			if ok {
				f = withRatio(f, p, pf)
				theirs = append(theirs, pf)
			}
		}
		mine = append(mine, f)
	}
	out := append(mine, theirs...)
	for i := range out {
		if out[i].Note == "" {
			out[i].Note = fmt.Sprintf("%d tenants x %d objects", n, ObjectsPerTenant)
		}
	}
	return out
}

func (s *samples) figure(system string, m metric, n int) Figure {
	name := fmt.Sprintf("%s %s, %d tenants", system, m.label, n)
	f := Figure{Name: name, Unit: m.unit}
	if why, ok := s.missing[system][m.key]; !ok || len(s.values[system][m.key]) > 0 {
		f = measured(name, m.unit, "", s.values[system][m.key])
	} else {
		f.Missing = why
	}
	f.System, f.Metric, f.Tenants = system, m.key, n
	return f
}

// peerFigure is a peer's figure, if the peer measured or tried that metric.
func (s *samples) peerFigure(peer string, m metric, n int) (Figure, bool) {
	_, tried := s.missing[peer][m.key]
	if len(s.values[peer][m.key]) == 0 && !tried {
		return Figure{}, false
	}
	return s.figure(peer, m, n), true
}

// growth is each tenantry figure at to tenants divided by the same figure at from, as
// "... growth from 1,000 to 5,000 tenants" figures: 5.0 is linear.
func growth(figs []Figure, from, to int) []Figure {
	at := map[string]map[int]Figure{}
	for _, f := range figs {
		if f.System != systemTenantry || f.Missing != "" {
			continue
		}
		if at[f.Metric] == nil {
			at[f.Metric] = map[int]Figure{}
		}
		at[f.Metric][f.Tenants] = f
	}
	var out []Figure
	for _, m := range metrics {
		a, okA := at[m.key][from]
		b, okB := at[m.key][to]
		if !okA || !okB || a.Value == 0 {
			continue
		}
		out = append(out, Figure{Name: fmt.Sprintf("tenantry %s, growth from %d to %d tenants", m.label, from, to),
			Value: b.Value / a.Value, Unit: "x", Note: fmt.Sprintf("%.0fx the tenants; 1.0 is flat, %.0f linear", float64(to)/float64(from), float64(to)/float64(from)),
			System: systemTenantry, Metric: m.key + "Growth"})
	}
	return out
}
