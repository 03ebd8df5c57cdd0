package reconciler

import (
	"context"

	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
)

// actionCounts counts a ChangeSet's entries by action.
type actionCounts struct{ created, configured, unchanged, deleted, skipped int }

func countActions(cs *ssa.ChangeSet) actionCounts {
	var c actionCounts
	if cs == nil {
		return c
	}
	for _, e := range cs.Entries {
		switch e.Action {
		case ssa.CreatedAction:
			c.created++
		case ssa.ConfiguredAction:
			c.configured++
		case ssa.UnchangedAction:
			c.unchanged++
		case ssa.DeletedAction:
			c.deleted++
		case ssa.SkippedAction:
			c.skipped++
		}
	}
	return c
}

// logChanges writes the one structured line of an apply ("applied") or a prune
// ("pruned"). The context's logger carries the tenant and revision.
func logChanges(ctx context.Context, what string, cs *ssa.ChangeSet, err error) {
	c := countActions(cs)
	kv := []any{"created", c.created, "configured", c.configured, "unchanged", c.unchanged, "deleted", c.deleted}
	if c.skipped > 0 {
		kv = append(kv, "skipped", c.skipped)
	}
	if err != nil {
		kv = append(kv, "error", err.Error())
	}
	logr.FromContextOrDiscard(ctx).Info(what, kv...)
}

// withTenant returns ctx whose logger names the tenant (and the revision, when given).
func withTenant(ctx context.Context, tenant, rev string) context.Context {
	log := logr.FromContextOrDiscard(ctx).WithValues("tenant", tenant)
	if rev != "" {
		log = log.WithValues("revision", rev)
	}
	return logr.NewContext(ctx, log)
}
