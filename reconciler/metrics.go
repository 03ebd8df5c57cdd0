package reconciler

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Reconcile outcomes, the values of tenantry_reconcile_duration_seconds{outcome}.
const (
	OutcomeSuccess   = "success"   // objects were written and became healthy
	OutcomeUnchanged = "unchanged" // Git did not change the tenant: nothing was written
	OutcomePaused    = "paused"    // spec.paused: nothing was applied
	OutcomeFailure   = "failure"   // the tenant failed to render, apply or become healthy
)

// Tenant conditions, the values of tenantry_tenants{condition}, counted after every pass.
const (
	ConditionReady   = "Ready"   // reconciled in the last pass
	ConditionFailed  = "Failed"  // its last reconcile failed (render, apply, health or prune)
	ConditionInvalid = "Invalid" // its file fails validation (the host Tenant is Stalled)
	ConditionPaused  = "Paused"  // spec.paused
)

var tenantConditions = []string{ConditionReady, ConditionFailed, ConditionInvalid, ConditionPaused}

// Metrics are the agent's Prometheus metrics. The caller creates them on its own
// registry and passes them in Options.Metrics; a nil *Metrics records nothing.
type Metrics struct {
	reconcileDuration *prometheus.HistogramVec
	tenants           *prometheus.GaugeVec
	driftDetected     *prometheus.CounterVec
	driftCorrected    *prometheus.CounterVec
	fetchDuration     prometheus.Histogram
	fetchFailures     prometheus.Counter
	lastApplied       *prometheus.GaugeVec
	alertsSent        *prometheus.CounterVec
	alertsFailed      *prometheus.CounterVec
}

// NewMetrics creates the agent's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		reconcileDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tenantry_reconcile_duration_seconds",
			Help:    "Time to reconcile one tenant, by outcome (success, unchanged, paused, failure).",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"outcome"}),
		tenants: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tenantry_tenants",
			Help: "Tenants by condition after the last pass (Ready, Failed, Invalid, Paused).",
		}, []string{"condition"}),
		driftDetected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantry_drift_detected_total",
			Help: "Drift checks that found live objects differing from Git, per tenant.",
		}, []string{"tenant"}),
		driftCorrected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantry_drift_corrected_total",
			Help: "Drift corrections (re-applies of a drifted tenant), per tenant.",
		}, []string{"tenant"}),
		fetchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tenantry_git_fetch_duration_seconds",
			Help:    "Time of one poll of the tenants repo (ls-remote, and a fetch when the ref moved).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}),
		fetchFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tenantry_git_fetch_failures_total",
			Help: "Polls of the tenants repo that failed (the last good revision stays served).",
		}),
		lastApplied: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tenantry_last_applied_revision_timestamp_seconds",
			Help: "Unix time at which the tenant last applied (or confirmed) a revision.",
		}, []string{"tenant"}),
		alertsSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantry_alerts_sent_total",
			Help: "Alert messages delivered, per provider (a summary counts once).",
		}, []string{"provider"}),
		alertsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantry_alerts_failed_total",
			Help: "Alert messages that failed for good after retries, per provider.",
		}, []string{"provider"}),
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering agent metrics: %w", err)
		}
	}
	for _, o := range []string{OutcomeSuccess, OutcomeUnchanged, OutcomePaused, OutcomeFailure} {
		m.reconcileDuration.WithLabelValues(o)
	}
	for _, c := range tenantConditions {
		m.tenants.WithLabelValues(c)
	}
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.reconcileDuration, m.tenants, m.driftDetected, m.driftCorrected,
		m.fetchDuration, m.fetchFailures, m.lastApplied, m.alertsSent, m.alertsFailed}
}

// observeReconcile records one tenant's reconcile and, on success, when it applied.
func (m *Metrics) observeReconcile(tenant, outcome string, took time.Duration, now time.Time) {
	if m == nil {
		return
	}
	m.reconcileDuration.WithLabelValues(outcome).Observe(took.Seconds())
	if outcome == OutcomeSuccess || outcome == OutcomeUnchanged {
		m.lastApplied.WithLabelValues(tenant).Set(float64(now.UnixNano()) / 1e9)
	}
}

// setTenants replaces the tenants-by-condition gauge with counts.
func (m *Metrics) setTenants(counts map[string]int) {
	if m == nil {
		return
	}
	for _, c := range tenantConditions {
		m.tenants.WithLabelValues(c).Set(float64(counts[c]))
	}
}

// forgetTenant drops a removed tenant's series.
func (m *Metrics) forgetTenant(tenant string) {
	if m == nil {
		return
	}
	m.lastApplied.DeleteLabelValues(tenant)
	m.driftDetected.DeleteLabelValues(tenant)
	m.driftCorrected.DeleteLabelValues(tenant)
}

func (m *Metrics) observeDrift(tenant string, corrected bool) {
	if m == nil {
		return
	}
	m.driftDetected.WithLabelValues(tenant).Inc()
	if corrected {
		m.driftCorrected.WithLabelValues(tenant).Inc()
	}
}

func (m *Metrics) observeFetch(took time.Duration, err error) {
	if m == nil {
		return
	}
	m.fetchDuration.Observe(took.Seconds())
	if err != nil {
		m.fetchFailures.Inc()
	}
}

// ObserveAlert counts one alert message to provider: sent when err is nil, else failed.
// Its signature fits notify.WithDeliveryObserver and notify.Observed.
func (m *Metrics) ObserveAlert(provider string, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.alertsFailed.WithLabelValues(provider).Inc()
		return
	}
	m.alertsSent.WithLabelValues(provider).Inc()
}

// outcomeOf classifies a tenant's reconcile for the duration histogram.
func outcomeOf(paused bool, r TenantResult) string {
	switch {
	case r.Err != nil:
		return OutcomeFailure
	case paused:
		return OutcomePaused
	case len(r.Changes) == 0:
		return OutcomeUnchanged
	}
	return OutcomeSuccess
}

// conditionCounts counts a pass's tenants by condition; tenants are the valid ones it
// reconciled, in the order of res.Tenants.
func conditionCounts(tenants []*v1alpha1.Tenant, res *Result) map[string]int {
	counts := map[string]int{ConditionInvalid: len(res.Invalid)}
	for i, t := range res.Tenants {
		switch {
		case t.Err != nil:
			counts[ConditionFailed]++
		case i < len(tenants) && tenants[i].Spec.Paused:
			counts[ConditionPaused]++
		default:
			counts[ConditionReady]++
		}
	}
	return counts
}
