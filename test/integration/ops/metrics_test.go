package ops_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// TestMetricsScrape runs `tenantry agent` on a repo of two tenants, scrapes /metrics over
// HTTP, forces drift and watches a chat endpoint that fails, and checks the apply log
// lines and the drift alert's old and new values.
func TestMetricsScrape(t *testing.T) {
	cleanupTenants(t)
	names := []string{"met-a", "met-b"}
	repo := newRepo(t, "10", names...)
	good, bad := framework.NewHook(t, http.StatusOK), framework.NewHook(t, http.StatusInternalServerError)
	cfg := filepath.Join(t.TempDir(), "notify.yaml")
	writeFile(t, cfg, fmt.Sprintf(`providers:
- {name: good, type: webhook, url: %q}
- {name: bad, type: webhook, url: %q}
dedupInterval: 1h
batchWindow: 100ms
`, good.URL, bad.URL))
	began := time.Now()
	p := framework.StartAgent(t, "--kubeconfig", host.Kubeconfig, "--repo-url", repo.Git.URL(), "--notify-config", cfg)

	p.WaitMetric(t, "two Ready tenants", "tenantry_tenants", func(v float64) bool { return v == 2 }, "condition", "Ready")
	fams, err := framework.Scrape(p.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name   string
		labels []string
		ok     func(float64) bool
	}{
		{"tenantry_tenants", []string{"condition", "Failed"}, func(v float64) bool { return v == 0 }},
		{"tenantry_tenants", []string{"condition", "Invalid"}, func(v float64) bool { return v == 0 }},
		{"tenantry_tenants", []string{"condition", "Paused"}, func(v float64) bool { return v == 0 }},
		{"tenantry_reconcile_duration_seconds", []string{"outcome", "success"}, func(v float64) bool { return v >= 2 }},
		{"tenantry_reconcile_duration_seconds", []string{"outcome", "failure"}, func(v float64) bool { return v == 0 }},
		{"tenantry_git_fetch_duration_seconds", nil, func(v float64) bool { return v >= 1 }},
		{"tenantry_git_fetch_failures_total", nil, func(v float64) bool { return v == 0 }},
		{"tenantry_last_applied_revision_timestamp_seconds", []string{"tenant", "met-a"},
			func(v float64) bool { return v >= float64(began.Unix()) && v <= float64(time.Now().Unix()+1) }},
		{"go_goroutines", nil, func(v float64) bool { return v > 0 }},
	}
	for _, c := range checks {
		if v, ok := framework.Value(fams, c.name, c.labels...); !ok || !c.ok(v) {
			t.Errorf("%s%v = %v (present %v)", c.name, c.labels, v, ok)
		}
	}
	checkApplyLogLines(t, p, names)

	framework.EditQuota(t, host.Clientset(t), "tenant-met-a", "99")
	p.WaitMetric(t, "drift detected on met-a", "tenantry_drift_detected_total", func(v float64) bool { return v >= 1 }, "tenant", "met-a")
	p.WaitMetric(t, "drift corrected on met-a", "tenantry_drift_corrected_total", func(v float64) bool { return v >= 1 }, "tenant", "met-a")
	p.WaitMetric(t, "a failed alert to the 500 endpoint", "tenantry_alerts_failed_total", func(v float64) bool { return v >= 1 }, "provider", "bad")
	p.WaitMetric(t, "a sent alert", "tenantry_alerts_sent_total", func(v float64) bool { return v >= 1 }, "provider", "good")
	if v, ok := p.Metric(t, "tenantry_alerts_sent_total", "provider", "bad"); ok && v > 0 {
		t.Errorf("alerts_sent{provider=bad} = %v, want 0", v)
	}
	checkDriftAlertValues(t, good)
}

func checkApplyLogLines(t *testing.T, p *framework.AgentProcess, names []string) {
	t.Helper()
	for _, n := range names {
		var mine []map[string]any
		for _, l := range p.LogLines("applied") {
			if l["tenant"] == n {
				mine = append(mine, l)
			}
		}
		if len(mine) != 1 {
			t.Fatalf("%s: %d \"applied\" log lines, want 1: %v", n, len(mine), mine)
		}
		l := mine[0]
		rev, _ := l["revision"].(string)
		inv := float64(len(tenantStatus(t, n).Inventory))
		if !strings.HasPrefix(rev, "main@sha1:") || inv < 5 || l["created"] != inv || l["configured"] != float64(0) ||
			l["unchanged"] != float64(0) || l["deleted"] != float64(0) {
			t.Errorf("%s: applied line %v, want revision main@sha1:..., created %v (the inventory), configured, unchanged and deleted 0", n, l, inv)
		}
	}
}

// checkDriftAlertValues checks that the drift alert names the quota field with its live
// (old) and desired (new) values.
func checkDriftAlertValues(t *testing.T, h *framework.Hook) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "a drift alert with old and new values", func() (bool, error) {
		for _, body := range h.Bodies() {
			var e notify.Event
			if json.Unmarshal(body, &e) != nil || e.Kind != notify.KindDrift || e.Tenant != "met-a" {
				continue
			}
			for _, o := range e.Objects {
				for _, c := range o.Changes {
					if o.Object == "ResourceQuota/tenant-met-a/"+render.QuotaName && c.Path == "spec.hard.pods" && c.Old == "99" && c.New == "10" {
						return true, nil
					}
				}
			}
			return false, fmt.Errorf("drift alert without the quota change: %s", body)
		}
		return false, fmt.Errorf("no drift alert among %d", len(h.Bodies()))
	})
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
