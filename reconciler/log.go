package reconciler

import (
	"context"

	"github.com/go-logr/logr"
)

// withTenant returns ctx whose logger names the tenant (and the revision, when given).
func withTenant(ctx context.Context, tenant, rev string) context.Context {
	log := logr.FromContextOrDiscard(ctx).WithValues("tenant", tenant)
	if rev != "" {
		log = log.WithValues("revision", rev)
	}
	return logr.NewContext(ctx, log)
}
