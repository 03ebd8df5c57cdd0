package bench

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tenantry/tenantry/api/wellknown"
)

func TestPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[99-i] = float64(i + 1) // 100 down to 1: percentile must sort
	}
	for _, tc := range []struct {
		name   string
		values []float64
		p      float64
		want   float64
	}{
		{"none", nil, 50, 0},
		{"one", []float64{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50},
		{"p99 of 1..100", hundred, 99, 99},
		{"p100 of 1..100", hundred, 100, 100},
		{"p0 is the smallest", hundred, 0, 1},
		{"p50 of an odd count", []float64{3, 1, 2}, 50, 2},
		{"p99 of a small count is the largest", []float64{5, 1, 9, 3}, 99, 9},
		{"p50 of an even count is the lower middle", []float64{4, 1, 3, 2}, 50, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.values, tc.p); got != tc.want {
				t.Errorf("percentile(%v, %g) = %g, want %g", tc.values, tc.p, got, tc.want)
			}
		})
	}
}

func TestPodsLabel(t *testing.T) {
	for n, want := range map[int]string{1: "1 pods", 200: "200 pods", 1000: "1,000 pods", 12345: "12,345 pods", 1000000: "1,000,000 pods"} {
		if got := podsLabel(n); got != want {
			t.Errorf("podsLabel(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSyncerRunOf(t *testing.T) {
	began := time.Unix(1000, 0)
	at := func(s float64) time.Time { return began.Add(time.Duration(s * float64(time.Second))) }
	r := syncerRunOf(began, []podTimes{
		{created: at(0.1), onHost: at(1.1), marked: at(1.5), running: at(3.5)},
		{created: at(0.2), onHost: at(4.2), marked: at(4.4), running: at(4.9)},
	})
	if r.createdTotal != 200*time.Millisecond || r.toHostTotal != 4200*time.Millisecond || r.runningTotal != 4900*time.Millisecond {
		t.Errorf("totals %s, %s, %s; want 0.2s, 4.2s, 4.9s", r.createdTotal, r.toHostTotal, r.runningTotal)
	}
	if want := "5s 2/2/2"; r.progress != want {
		t.Errorf("progress %q, want %q", r.progress, want)
	}
	if percentile(r.toHost, 99) != 4 || percentile(r.back, 50) != 0.5 {
		t.Errorf("per pod: to host %v, back %v", r.toHost, r.back)
	}
}

func TestLoadOrigin(t *testing.T) {
	target := loadTarget{origin: tenantryOrigin}
	for _, tc := range []struct {
		virtualNS, want string
	}{
		{"default", "default/p"},
		{intensivePrefix + "3", intensivePrefix + "3/p"},
		{"kube-system", ""}, // a system's own pod, such as CoreDNS
		{"", ""},            // not a synced pod at all
	} {
		p := &corev1.Pod{}
		if tc.virtualNS != "" {
			p.Annotations = map[string]string{wellknown.VClusterAnnotationName: "p", wellknown.VClusterAnnotationNamespace: tc.virtualNS}
		}
		if got := target.loadOrigin(p); got != tc.want {
			t.Errorf("loadOrigin(pod of %q) = %q, want %q", tc.virtualNS, got, tc.want)
		}
	}
}

// TestOffer: the stand-in gets each load pod once, bound by the host scheduler where one
// binds (the node bench), unbound where the stand-in binds (the syncer bench).
func TestOffer(t *testing.T) {
	for _, tc := range []struct {
		name           string
		schedulerBinds bool
		steps          []string // each pod state seen, in order: unbound, bound, other-node, running
		want           int
	}{
		{"scheduler binds: bound once, seen twice", true, []string{"unbound", "bound", "bound"}, 1},
		{"scheduler binds: never an unbound pod", true, []string{"unbound", "unbound"}, 0},
		{"scheduler binds: not another node's", true, []string{"other-node"}, 0},
		{"scheduler binds: not one already Running", true, []string{"running"}, 0},
		{"stand-in binds: unbound once", false, []string{"unbound", "unbound", "bound"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newSyncerLoad(loadTarget{node: "standin", schedulerBinds: tc.schedulerBinds, origin: tenantryOrigin}, 4)
			for _, step := range tc.steps {
				p := &corev1.Pod{}
				switch step {
				case "bound", "running":
					p.Spec.NodeName = "standin"
				case "other-node":
					p.Spec.NodeName = "node-1"
				}
				if step == "running" {
					p.Status.Phase = corev1.PodRunning
				}
				l.offer("default/p", p)
			}
			if got := len(l.work); got != tc.want {
				t.Errorf("%d pods handed to the stand-in, want %d", got, tc.want)
			}
		})
	}
}
