package bench

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFiguresCarryRatiosToEachPeer(t *testing.T) {
	s := newSamples()
	s.addAgent(&AgentResult{ColdSeconds: 10, NoopSeconds: 1, ChangeSeconds: 2, PeakRSSMiB: 100, CPUSeconds: 5})
	s.add(peerKubectl, "cold", 20)
	s.addFlux(fluxPerTenant, &fluxRun{cold: 40 * time.Second, noop: 4 * time.Second, change: 8 * time.Second,
		applied: 101, total: 101, usage: usage{rssMiB: 200, cpuSeconds: 10}}, nil, time.Minute)
	s.addFlux(fluxAll, nil, errors.New("kustomize-controller is not built"), time.Minute)
	figs := s.figures(100)
	cold := find(t, figs, "tenantry cold reconcile, 100 tenants")
	want := map[string]float64{peerKubectl: 0.5, string(fluxPerTenant): 0.25}
	if len(cold.Ratios) != len(want) {
		t.Fatalf("cold ratios = %+v, want %v", cold.Ratios, want)
	}
	for _, r := range cold.Ratios {
		if want[r.Peer] != r.Value {
			t.Errorf("ratio to %s = %v, want %v", r.Peer, r.Value, want[r.Peer])
		}
	}
	if f := find(t, figs, string(fluxAll)+" cold reconcile, 100 tenants"); !strings.Contains(f.Missing, "not built") {
		t.Errorf("unbuilt peer figure = %+v, want it missing with the reason", f)
	}
}

func TestCappedPeerReportsHowFarItGot(t *testing.T) {
	s := newSamples()
	s.addAgent(&AgentResult{ColdSeconds: 10})
	s.addFlux(fluxPerTenant, &fluxRun{cold: 600 * time.Second, applied: 412, total: 1001}, nil, 10*time.Minute)
	f := find(t, s.figures(1000), string(fluxPerTenant)+" cold reconcile, 1000 tenants")
	if f.Value != 0 || f.Missing != "412 of 1001 Kustomizations applied at 600 s (limit 10m0s)" {
		t.Fatalf("capped figure = %+v, want no value and how far it got", f)
	}
	if c := find(t, s.figures(1000), "tenantry cold reconcile, 1000 tenants"); len(c.Ratios) != 0 {
		t.Fatalf("ratio to a capped peer = %+v, want none", c.Ratios)
	}
}

func TestChartGolden(t *testing.T) {
	s := newSamples()
	s.addAgent(&AgentResult{ColdSeconds: 26, ChangeSeconds: 1.5, PeakRSSMiB: 124})
	s.addFlux(fluxPerTenant, &fluxRun{cold: 30 * time.Second, change: 5 * time.Second, applied: 1, total: 1, usage: usage{rssMiB: 150}}, nil, time.Minute)
	rep := &Report{Figures: s.figures(100)}
	s2 := newSamples()
	s2.addAgent(&AgentResult{ColdSeconds: 840, ChangeSeconds: 12, PeakRSSMiB: 486})
	s2.addFlux(fluxPerTenant, &fluxRun{cold: 600 * time.Second, applied: 1, total: 2, usage: usage{rssMiB: 178}}, nil, time.Minute)
	rep.Figures = append(rep.Figures, s2.figures(1000)...)
	var b bytes.Buffer
	if err := rep.WriteChart(&b); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "chart.svg")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("%s differs (UPDATE_GOLDEN=1 rewrites it):\n%s", golden, b.String())
	}
}

func find(t *testing.T, figs []Figure, name string) Figure {
	t.Helper()
	for _, f := range figs {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no figure %q", name)
	return Figure{}
}

func TestGrowth(t *testing.T) {
	figs := []Figure{
		{System: systemTenantry, Metric: "cold", Tenants: 1000, Value: 60},
		{System: systemTenantry, Metric: "cold", Tenants: 5000, Value: 330},
		{System: systemTenantry, Metric: "rss", Tenants: 1000, Value: 200},
		{System: systemTenantry, Metric: "rss", Tenants: 5000, Missing: "run failed"},
		{System: peerKubectl, Metric: "cold", Tenants: 1000, Value: 400},
	}
	got := growth(figs, 1000, 5000)
	if len(got) != 1 || got[0].Metric != "coldGrowth" || got[0].Value != 5.5 || got[0].Unit != "x" {
		t.Fatalf("growth = %+v, want cold only, 5.5x", got)
	}
}
