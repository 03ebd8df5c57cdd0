package framework

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Scrape reads a Prometheus /metrics endpoint over HTTP.
func Scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url) //nolint:noctx // a test scrape
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// Value is the value of the first sample of family name whose labels include labels
// (name, value, name, value...): a counter's or gauge's value, a histogram's sample
// count. ok is false when there is none.
func Value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		if hasLabels(m, labels) {
			return sampleValue(m), true
		}
	}
	return 0, false
}

// sumOf adds up the samples of f whose labels include labels, and counts them.
func sumOf(f *dto.MetricFamily, labels []string) (float64, int) {
	var sum float64
	n := 0
	for _, m := range f.GetMetric() {
		if hasLabels(m, labels) {
			sum += sampleValue(m)
			n++
		}
	}
	return sum, n
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

func hasLabels(m *dto.Metric, kv []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if have[kv[i]] != kv[i+1] {
			return false
		}
	}
	return true
}

// Controller is a controller-runtime controller running in the test's process (the
// syncer's controllers are named "<vcluster>-<Kind>"), seen through controller-runtime's
// global metrics registry.
type Controller string

// Mark is a controller's counters at one moment, taken before the change a test waits on.
type Mark struct {
	reconciles float64
	// depth is what the queue gauge shows while nothing of this controller is queued
	// yet: a controller stopped with items queued leaves them counted in the global
	// gauge, and one restarted under the same name adds to that figure.
	depth float64
}

// Mark reads the controller's counters now. A controller restarted under the same name
// keeps counting. Take it while the controller is stopped or idle.
func (c Controller) Mark(t testing.TB) Mark {
	t.Helper()
	fams := gatherControllerRuntime(t)
	n, _ := sumOf(fams["controller_runtime_reconcile_total"], []string{"controller", string(c)})
	depth, _ := sumOf(fams["workqueue_depth"], []string{"controller", string(c)})
	return Mark{reconciles: n, depth: depth}
}

// idle reports whether the controller has nothing queued beyond the mark's stale depth
// and no reconcile running.
func (c Controller) idle(t testing.TB, m Mark) (bool, error) {
	fams := gatherControllerRuntime(t)
	depth, _ := sumOf(fams["workqueue_depth"], []string{"controller", string(c)})
	active, _ := sumOf(fams["controller_runtime_active_workers"], []string{"controller", string(c)})
	depth -= m.depth
	return depth <= 0 && active == 0, fmt.Errorf("%s: %v queued, %v reconciling", c, depth, active)
}

// WaitSettled waits until the controller has finished more reconciles than at the mark
// and then has nothing queued and nothing running: it has seen the change and acted on
// it. For a test whose point is that this action changes nothing.
func (c Controller) WaitSettled(t testing.TB, m Mark) {
	t.Helper()
	Eventually(t, 60*time.Second, fmt.Sprintf("controller %s to reconcile and settle", c), func() (bool, error) {
		if n := c.Mark(t).reconciles; n <= m.reconciles {
			return false, fmt.Errorf("%s: %v reconciles, want more than %v", c, n, m.reconciles)
		}
		return c.idle(t, m)
	})
}

func gatherControllerRuntime(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	list, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gathering controller-runtime metrics: %v", err)
	}
	fams := map[string]*dto.MetricFamily{}
	for _, f := range list {
		fams[f.GetName()] = f
	}
	return fams
}
