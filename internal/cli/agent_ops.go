package cli

import (
	"context"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/internal/leader"
	"github.com/tenantry/tenantry/reconciler"
)

// leaderFlags configure the agent's leader election.
type leaderFlags struct {
	elect                                     bool
	namespace, id                             string
	leaseDuration, renewDeadline, retryPeriod time.Duration
}

func addLeaderFlags(fl *pflag.FlagSet, f *leaderFlags) {
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		ns = "tenantry-system"
	}
	fl.BoolVar(&f.elect, "leader-elect", false, "elect a leader through a Lease, so only one replica fetches, applies and prunes")
	fl.StringVar(&f.namespace, "leader-election-namespace", ns, "namespace of the leader election Lease (default $POD_NAMESPACE, else tenantry-system)")
	fl.StringVar(&f.id, "leader-election-id", "tenantry-agent", "name of the leader election Lease")
	fl.DurationVar(&f.leaseDuration, "leader-election-lease-duration", leader.DefaultLeaseDuration, "how long a standby waits before taking over an unrenewed lease")
	fl.DurationVar(&f.renewDeadline, "leader-election-renew-deadline", leader.DefaultRenewDeadline, "how long the leader retries renewing before it gives up leading")
	fl.DurationVar(&f.retryPeriod, "leader-election-retry-period", leader.DefaultRetryPeriod, "how often candidates try to acquire or renew the lease")
}

// ownNamespaces are the agent's own namespaces, which no tenant may claim: the pod's
// ($POD_NAMESPACE) and the leader election Lease's.
func ownNamespaces(f leaderFlags) []string {
	out := []string{f.namespace}
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" && ns != f.namespace {
		out = append(out, ns)
	}
	return out
}

// runLeading runs lead at once, or, with --leader-elect, only while this replica holds
// the Lease; losing it cancels lead's context and returns leader.ErrLost. standby is
// called when the replica starts waiting (it serves /readyz meanwhile).
func runLeading(ctx context.Context, cfg *rest.Config, f leaderFlags, standby func(), lead func(context.Context) error) error {
	if !f.elect {
		return lead(ctx)
	}
	return leader.Run(ctx, cfg, leader.Options{Namespace: f.namespace, Name: f.id, OnStandby: standby,
		LeaseDuration: f.leaseDuration, RenewDeadline: f.renewDeadline, RetryPeriod: f.retryPeriod}, lead)
}

// newAgentMetrics is the registry /metrics serves: Go and process collectors plus the
// agent's own metrics.
func newAgentMetrics() (*prometheus.Registry, *reconciler.Metrics, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := reconciler.NewMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	return reg, m, nil
}
