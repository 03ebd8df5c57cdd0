package ops_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/test/cluster"
)

// TestStalledAlert breaks a tenant file on three revisions in a row: the agent alerts one
// failure per revision and, on the third, one "stalled" (the rule: 3 revisions or 30
// minutes of failing on every attempt). The generic webhook's deliveries are counted.
func TestStalledAlert(t *testing.T) {
	cleanupTenants(t)
	repo := newRepo(t, "10", "stall-ok")
	hook := newHookServer(t, http.StatusOK)
	p := startAgent(t, "--kubeconfig", host.Kubeconfig, "--repo-url", repo.URL(), "--notify-webhook-url", hook.srv.URL)
	waitMetric(t, p, "stall-ok Ready", "tenantry_tenants", func(v float64) bool { return v == 1 }, "condition", "Ready")
	for i, cpu := range []string{"2o", "3o", "4o"} {
		if err := repo.Write("tenants/stall-bad.yaml", []byte(strings.Replace(tenantYAML("stall-bad", "10"), `cpu: "4"`, `cpu: "`+cpu+`"`, 1))); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Commit("break stall-bad " + cpu); err != nil {
			t.Fatal(err)
		}
		cluster.Eventually(t, 30*time.Second, fmt.Sprintf("failure alert %d", i+1), func() (bool, error) {
			n := len(hookEvents(hook, notify.KindFailure, "stall-bad"))
			return n == i+1, fmt.Errorf("%d failure alerts", n)
		})
		// The stalled alert follows the third failure alert; its delivery may lag behind.
		want := i / 2
		cluster.Eventually(t, 10*time.Second, fmt.Sprintf("%d stalled alerts after %d broken revisions", want, i+1), func() (bool, error) {
			n := len(hookEvents(hook, notify.KindStalled, "stall-bad"))
			if n > want {
				t.Fatalf("after %d broken revisions: %d stalled alerts, want %d", i+1, n, want)
			}
			return n == want, fmt.Errorf("%d stalled alerts", n)
		})
	}
	waitMetric(t, p, "invalid tenant counted", "tenantry_tenants", func(v float64) bool { return v == 1 }, "condition", "Invalid")
	waitMetric(t, p, "webhook deliveries counted", "tenantry_alerts_sent_total", func(v float64) bool { return v >= 4 }, "provider", "webhook")
	time.Sleep(2 * time.Second) // more polls retry the failing tenant: still one stalled alert
	if st := hookEvents(hook, notify.KindStalled, "stall-bad"); len(st) != 1 || !strings.Contains(st[0].Message, "across 3 revision(s)") {
		t.Fatalf("stalled alerts %+v, want one across 3 revisions", st)
	}
}

func hookEvents(h *hookServer, kind notify.Kind, tenant string) []notify.Event {
	var out []notify.Event
	for _, body := range h.received() {
		var e notify.Event
		if json.Unmarshal(body, &e) == nil && e.Kind == kind && e.Tenant == tenant {
			out = append(out, e)
		}
	}
	return out
}
