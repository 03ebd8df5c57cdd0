package reconciler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/tenantry/tenantry/notify"
)

// alerts sends the agent's notifications, each once: failures per tenant, revision and
// message, recoveries, hold-backs per revision and reason, and stalls by the stalled rule.
// Delivery runs in the background: a slow provider never blocks reconciliation.
type alerts struct {
	notifier         notify.Notifier
	repoURL          string
	stalledAfter     time.Duration
	stalledRevisions int

	mu       sync.Mutex
	failing  map[string]string // tenant -> last failure alerted
	heldBack string            // last hold-back alerted
	commit   commitInfo        // the commit being reconciled
	stalls   stallTracker      // failure streaks
}

// commitInfo describes the commit a pass reconciles.
type commitInfo struct{ author, message string }

func newAlerts(o Options) *alerts {
	al := &alerts{notifier: o.Notifier, repoURL: o.RepoURL, stalledAfter: o.StalledAfter,
		stalledRevisions: o.StalledRevisions, failing: map[string]string{}}
	if al.stalledAfter <= 0 {
		al.stalledAfter = DefaultStalledAfter
	}
	if al.stalledRevisions <= 0 {
		al.stalledRevisions = DefaultStalledRevisions
	}
	return al
}

func (al *alerts) setCommit(author, message string) {
	al.mu.Lock()
	defer al.mu.Unlock()
	al.commit = commitInfo{author: author, message: message}
}

// failure notifies a failure once per tenant ("" for the Git fetch), revision and message,
// and applies the stalled rule.
func (al *alerts) failure(ctx context.Context, tenant, rev, msg string) {
	key := rev + "\x00" + msg
	al.mu.Lock()
	seen := al.failing[tenant] == key
	al.failing[tenant] = key
	al.mu.Unlock()
	if !seen {
		al.send(ctx, notify.Event{Kind: notify.KindFailure, Tenant: tenant, Revision: rev, Message: msg})
	}
	al.checkStalled(ctx, tenant, rev, msg)
}

// recovered notifies once when a failing tenant becomes Ready again.
func (al *alerts) recovered(ctx context.Context, tenant, rev string) {
	al.mu.Lock()
	_, was := al.failing[tenant]
	delete(al.failing, tenant)
	al.stalls.recovered(tenant)
	al.mu.Unlock()
	if was {
		al.send(ctx, notify.Event{Kind: notify.KindRecovered, Tenant: tenant, Revision: rev, Message: "tenant is Ready again"})
	}
}

// holdBack reports, once per revision and reason, that pruning was held back.
func (al *alerts) holdBack(ctx context.Context, rev, why string) {
	logr.FromContextOrDiscard(ctx).Info("pruning held back", "reason", why)
	al.mu.Lock()
	key := rev + "\x00" + why
	seen := al.heldBack == key
	al.heldBack = key
	al.mu.Unlock()
	if !seen {
		al.send(ctx, notify.Event{Kind: notify.KindHeldBack, Revision: rev, Message: "pruning held back: " + why})
	}
}

// checkStalled applies the stalled rule to a failure and alerts once when it trips.
func (al *alerts) checkStalled(ctx context.Context, tenant, rev, msg string) {
	now := time.Now()
	al.mu.Lock()
	stalled, st := al.stalls.failed(tenant, rev, now, al.stalledAfter, al.stalledRevisions)
	since, n := st.since, len(st.revisions)
	al.mu.Unlock()
	if !stalled {
		return
	}
	what := "tenant " + tenant
	if tenant == "" {
		what = "the tenants repo"
	}
	al.send(ctx, notify.Event{Kind: notify.KindStalled, Tenant: tenant, Revision: rev,
		Message: fmt.Sprintf("%s has failed on every attempt for %s, across %d revision(s); last error: %s",
			what, now.Sub(since).Round(time.Second), n, msg)})
}

// send delivers an event in the background, with the commit being reconciled.
func (al *alerts) send(ctx context.Context, e notify.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	al.mu.Lock()
	e.Author, e.CommitMessage, e.RepoURL = al.commit.author, al.commit.message, al.repoURL
	al.mu.Unlock()
	log := logr.FromContextOrDiscard(ctx)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := al.notifier.Notify(ctx, e); err != nil {
			log.Error(err, "notification failed", "kind", e.Kind, "tenant", e.Tenant)
		}
	}()
}
