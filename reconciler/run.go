package reconciler

import (
	"context"
	"time"

	"github.com/go-logr/logr"

	"github.com/tenantry/tenantry/reconciler/source"
)

// Fetcher is the Git side of the agent: it returns the newest good checkout.
type Fetcher interface {
	Fetch(ctx context.Context) (*source.Artifact, bool, error)
}

// RunOptions configures the agent's loops.
type RunOptions struct {
	// PollInterval is how often Git is polled (ls-remote first; no fetch when unchanged).
	PollInterval time.Duration
	// DriftInterval is how often live objects are compared with Git, independent of Git.
	DriftInterval time.Duration
	// Trigger fetches at once (the webhook receiver sends on it).
	Trigger <-chan struct{}
	// OnPass is called after every pass, e.g. to print status.
	OnPass func(*Result, error)
}

// Run polls Git and reconciles on every new revision, retries failed tenants on every
// poll, and checks drift on its own interval, until ctx ends. When Git fails, the last
// good revision keeps being served and nothing is pruned.
func (a *Agent) Run(ctx context.Context, src Fetcher, opts RunOptions) error {
	log := logr.FromContextOrDiscard(ctx)
	if err := a.host.resolveServiceCIDR(ctx, a.client, a.opts.VirtualClusters); err != nil {
		return err // a wrong range would refuse every tenant Service: stop at start
	}
	poll := time.NewTicker(opts.PollInterval)
	defer poll.Stop()
	drift := time.NewTicker(opts.DriftInterval)
	defer drift.Stop()
	var applied string
	var retry bool
	pass := func() {
		began := time.Now()
		art, changed, err := src.Fetch(ctx)
		a.opts.Metrics.observeFetch(time.Since(began), err)
		if err != nil && ctx.Err() != nil {
			return // stopping: a cancelled fetch is not a failure to log or alert
		}
		if err != nil {
			log.Error(err, "fetching the tenants repo failed; serving the last good revision")
			a.alerts.failure(ctx, "", "", "fetching the tenants repo: "+err.Error())
			return
		}
		if !changed && art.Revision == applied && !retry {
			return
		}
		a.alerts.recovered(ctx, "", art.Revision)
		a.SetCommit(art.Author, art.Message)
		res, err := a.Sync(ctx, art.Path, art.Revision)
		applied, retry = art.Revision, err != nil || res.Failed()
		if opts.OnPass != nil {
			opts.OnPass(res, err)
		}
	}
	pass()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
			pass()
		case <-opts.Trigger:
			pass()
		case <-drift.C:
			for _, d := range a.CheckDrift(ctx) {
				if d.Err != nil && ctx.Err() == nil { // a check cut short by the stop is no failure
					log.Error(d.Err, "drift check failed", "tenant", d.Tenant)
				}
			}
		}
	}
}
