package ops_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tenantry/tenantry/internal/leader"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

const leaseID = "tenantry-agent-test"

// TestLeaderElection runs two agents with --leader-elect, each as its own cluster-admin
// user, and counts each one's writes in the audit log: only the leader applies; when the
// leader stops, the standby takes over and applies the next commit; an agent whose lease
// is taken from it stops applying and exits with an error, and makes no write while a
// third agent applies the commit after that.
func TestLeaderElection(t *testing.T) {
	cleanupTenants(t)
	ns := host.NewNamespace(t)
	repo := newRepo(t, "10", "lead-a")
	start := func(user string) *framework.AgentProcess {
		return framework.StartAgent(t, "--kubeconfig", adminUser(t, user), "--repo-url", repo.Git.URL(), "--leader-elect",
			"--leader-election-namespace", ns, "--leader-election-id", leaseID,
			"--leader-election-lease-duration", "3s", "--leader-election-renew-deadline", "2s", "--leader-election-retry-period", "250ms")
	}
	a := start("agent-a")
	waitPods(t, "10")
	b := start("agent-b")
	waitReadyz(t, b)
	commit(repo, "20", "lead-a")
	waitPods(t, "20")
	if n := auditWrites(t, "agent-b"); n != 0 {
		t.Fatalf("the standby made %d writes, want 0", n)
	}
	if auditWrites(t, "agent-a") == 0 {
		t.Fatal("the leader made no writes")
	}

	if err := a.Stop(t); err != nil {
		t.Fatalf("the leader stopped by its context returned %v, want nil", err)
	}
	// Counted once it has exited: the pass that applied "20" may still have been
	// recording its status when the pods showed the new quota.
	aWrites := auditWrites(t, "agent-a")
	commit(repo, "30", "lead-a")
	waitPods(t, "30")
	if n := auditWrites(t, "agent-b"); n == 0 {
		t.Fatal("the new leader made no writes")
	}
	if n := auditWrites(t, "agent-a"); n != aWrites {
		t.Fatalf("the stopped leader made %d more writes", n-aWrites)
	}

	stealLease(t, ns)
	select {
	case err := <-b.Done:
		close(b.Done)
		if !errors.Is(err, leader.ErrLost) {
			t.Fatalf("the agent that lost its lease returned %v, want leader.ErrLost", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the agent whose lease was taken kept running")
	}
	bWrites := auditWrites(t, "agent-b")
	commit(repo, "40", "lead-a")
	// A witness without election applies "40" and polls twice more: had b kept running
	// after it returned, it would have seen "40" as soon and written.
	c := framework.StartAgent(t, "--kubeconfig", adminUser(t, "agent-c"), "--repo-url", repo.Git.URL())
	waitPods(t, "40")
	c.WaitPolls(t, 2)
	if n := auditWrites(t, "agent-b"); n != bWrites {
		t.Fatalf("the agent that lost its lease made %d more writes", n-bWrites)
	}
}

// waitPods waits until tenant lead-a's quota allows pods pods.
func waitPods(t *testing.T, pods string) {
	t.Helper()
	cs := host.Clientset(t)
	framework.Eventually(t, 60*time.Second, "lead-a's quota at "+pods+" pods", func() (bool, error) {
		q, err := cs.CoreV1().ResourceQuotas("tenant-lead-a").Get(context.Background(), render.QuotaName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got := q.Spec.Hard["pods"]
		return got.String() == pods, fmt.Errorf("pods %s", got.String())
	})
}

// waitReadyz waits until a (standby) agent answers /readyz.
func waitReadyz(t *testing.T, p *framework.AgentProcess) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "/readyz of the standby", func() (bool, error) {
		resp, err := http.Get(p.HealthURL + "/readyz") //nolint:noctx // a test probe
		if err != nil {
			return false, err
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Errorf("status %s", resp.Status)
	})
}

// stealLease makes another identity hold the lease, as a partition or a slow renewal would.
func stealLease(t *testing.T, ns string) {
	t.Helper()
	leases := host.Clientset(t).CoordinationV1().Leases(ns)
	framework.Eventually(t, 10*time.Second, "taking the lease", func() (bool, error) {
		l, err := leases.Get(context.Background(), leaseID, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		now := metav1.NewMicroTime(time.Now())
		l.Spec = coordinationv1.LeaseSpec{HolderIdentity: ptr.To("thief"), LeaseDurationSeconds: ptr.To[int32](60),
			AcquireTime: &now, RenewTime: &now, LeaseTransitions: l.Spec.LeaseTransitions}
		_, err = leases.Update(context.Background(), l, metav1.UpdateOptions{})
		return err == nil, err
	})
}
