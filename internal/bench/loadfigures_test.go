package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

// fakeSystem is a loadSystem that is only named: loadRunFigures reads no more of it.
type fakeSystem string

func (f fakeSystem) system() string                          { return string(f) }
func (fakeSystem) start(context.Context) (loadTarget, error) { return loadTarget{}, nil }
func (fakeSystem) rss(context.Context) (float64, error)      { return 0, nil }
func (fakeSystem) stop(context.Context) error                { return nil }

func TestLoadRunFiguresRatios(t *testing.T) {
	run := func(host time.Duration, rss float64) loadRun {
		return loadRun{pods: syncerRun{toHostTotal: host}, rss: rss}
	}
	systems := []loadSystem{fakeSystem("tenantry"), fakeSystem("vcluster"), fakeSystem("broken")}
	runs := map[string][]loadRun{
		"tenantry": {run(10*time.Second, 200), run(30*time.Second, 100), run(20*time.Second, 300)},
		"vcluster": {run(40*time.Second, 400)},
	}
	figs := loadRunFigures(systems, runs, map[string]string{"broken": "no image"})
	byKey := map[string]Figure{}
	for _, f := range figs {
		byKey[f.Metric+"/"+f.System] = f
	}
	if n := len(figs); n != 3*len(loadFigureList()) {
		t.Fatalf("%d figures, want %d", n, 3*len(loadFigureList()))
	}
	host := byKey["load-pods-host/tenantry"]
	if host.Value != 20 || len(host.Runs) != 3 {
		t.Errorf("tenantry's total is %g over %v, want the median 20 of 3 runs", host.Value, host.Runs)
	}
	if len(host.Ratios) != 1 || host.Ratios[0].Peer != "vcluster" || host.Ratios[0].Value != 0.5 {
		t.Errorf("tenantry's ratios %+v, want vcluster 0.5 alone (no ratio to a missing peer)", host.Ratios)
	}
	if rss := byKey["load-rss/tenantry"]; len(rss.Ratios) != 1 || rss.Ratios[0].Value != 0.5 {
		t.Errorf("RSS ratios %+v, want 200/400", rss.Ratios)
	}
	if peer := byKey["load-pods-host/vcluster"]; peer.Value != 40 || len(peer.Ratios) != 0 {
		t.Errorf("the peer's figure %+v, want 40 s and no ratio of its own", peer)
	}
	if broken := byKey["load-pods-host/broken"]; broken.Missing != "no image" || broken.Value != 0 {
		t.Errorf("a failed system's figure %+v, want missing with its reason", broken)
	}
}

func TestIntensiveRunOf(t *testing.T) {
	began := time.Unix(1000, 0)
	at := func(s float64) time.Time { return began.Add(time.Duration(s * float64(time.Second))) }
	r := intensiveRunOf(began, []podTimes{
		{created: at(1), onHost: at(2), running: at(4)},
		{created: at(2), onHost: at(2.5), running: at(9)},
		{onHost: at(0.5)},                 // a host copy of something else: left out
		{created: at(3), onHost: at(3.5)}, // not round yet: left out
	})
	if r.total != 9*time.Second || len(r.ready) != 2 || percentile(r.ready, 99) != 7 || percentile(r.toHost, 50) != 0.5 {
		t.Errorf("run %+v: want total 9 s, ready [3 7], to host [1 0.5]", r)
	}
}

func TestChartDrawsTheLoadFiguresSideBySide(t *testing.T) {
	run := func(host, running time.Duration, rss float64) loadRun {
		return loadRun{pods: syncerRun{toHostTotal: host, runningTotal: running}, rss: rss}
	}
	systems := []loadSystem{fakeSystem("tenantry"), fakeSystem(peerVCluster)}
	figs := loadRunFigures(systems, map[string][]loadRun{
		"tenantry":   {run(18*time.Second, 40*time.Second, 430)},
		peerVCluster: {run(26*time.Second, 59*time.Second, 713)},
	}, nil)
	var b strings.Builder
	if err := (&Report{Figures: figs}).WriteChart(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Pod loads on the node", "<title>tenantry 18 s</title>", "<title>" + peerVCluster + " 26 s</title>",
		"<title>tenantry 430 MiB</title>", "<title>" + peerVCluster + " 713 MiB</title>", "<title>" + peerVCluster + " 59 s</title>"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("chart has no %q", want)
		}
	}
}
