package agent_test

import (
	"context"
	"io"
	"time"

	"github.com/tenantry/tenantry/internal/cli"
)

func runDev(ctx context.Context, out io.Writer) error {
	return cli.RunDev(ctx, out, cli.DevOptions{Tenants: "../../../tenants-example", Once: true, Gatekeeper: true,
		Timeout: 3 * time.Minute, Interval: time.Second, DriftInterval: time.Minute})
}
