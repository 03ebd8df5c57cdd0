package ops_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/test/framework"
)

// TestStalledAlert breaks a tenant file on three revisions in a row: the agent alerts one
// failure per revision and, on the third, one "stalled" (the rule: 3 revisions or 30
// minutes of failing on every attempt). The generic webhook's deliveries are counted.
func TestStalledAlert(t *testing.T) {
	cleanupTenants(t)
	repo := newRepo(t, "10", "stall-ok")
	hook := framework.NewHook(t, http.StatusOK)
	p := framework.StartAgent(t, "--kubeconfig", host.Kubeconfig, "--repo-url", repo.Git.URL(), "--notify-webhook-url", hook.URL)
	p.WaitMetric(t, "stall-ok Ready", "tenantry_tenants", func(v float64) bool { return v == 1 }, "condition", "Ready")
	for i, cpu := range []string{"2o", "3o", "4o"} {
		repo.Write("stall-bad", strings.Replace(framework.TenantYAML("stall-bad"), `cpu: "4"`, `cpu: "`+cpu+`"`, 1))
		repo.Commit("break stall-bad " + cpu)
		framework.Eventually(t, 30*time.Second, fmt.Sprintf("failure alert %d", i+1), func() (bool, error) {
			n := len(hook.Events(notify.KindFailure, "stall-bad"))
			return n == i+1, fmt.Errorf("%d failure alerts", n)
		})
		// The stalled alert follows the third failure alert; its delivery may lag behind.
		want := i / 2
		framework.Eventually(t, 10*time.Second, fmt.Sprintf("%d stalled alerts after %d broken revisions", want, i+1), func() (bool, error) {
			n := len(hook.Events(notify.KindStalled, "stall-bad"))
			if n > want {
				t.Fatalf("after %d broken revisions: %d stalled alerts, want %d", i+1, n, want)
			}
			return n == want, fmt.Errorf("%d stalled alerts", n)
		})
	}
	p.WaitMetric(t, "invalid tenant counted", "tenantry_tenants", func(v float64) bool { return v == 1 }, "condition", "Invalid")
	p.WaitMetric(t, "webhook deliveries counted", "tenantry_alerts_sent_total", func(v float64) bool { return v >= 4 }, "provider", "webhook")
	// Every poll retries the failing tenant, in a pass that would alert again if the rule
	// were broken. After three more polls, two whole retry passes have run, the first with
	// all of the second's time for its alerts to arrive: still one stalled alert, and no
	// delivery at all since the wait began.
	delivered := len(hook.Bodies())
	p.WaitPolls(t, 3)
	if st := hook.Events(notify.KindStalled, "stall-bad"); len(st) != 1 || !strings.Contains(st[0].Message, "across 3 revision(s)") {
		t.Fatalf("stalled alerts %+v, want one across 3 revisions", st)
	}
	if n := len(hook.Bodies()); n != delivered {
		t.Fatalf("the retries delivered %d more alerts: %s", n-delivered, hook.Bodies()[delivered:])
	}
}
