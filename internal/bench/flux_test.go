package bench

import (
	"context"
	"io"
	"os"
	"testing"
	"time"
)

// TestFluxPeerAppliesTheSameObjects runs the Flux peer on three tenants in both shapes:
// every Kustomization applies, the no-op handles every request and the change lands.
// make bench builds the peer; make test does not, so there it skips, saying so.
func TestFluxPeerAppliesTheSameObjects(t *testing.T) {
	if _, err := fluxBinaries(); err != nil {
		t.Skipf("Flux peer not built (make peers builds it): %v", err)
	}
	for _, shape := range []fluxShape{fluxPerTenant, fluxAll} {
		t.Run(string(shape), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			log := io.Discard
			if testing.Verbose() {
				log = os.Stderr
			}
			r, err := runFlux(ctx, 3, t.TempDir(), shape, 2*time.Minute, log)
			if err != nil {
				t.Fatal(err)
			}
			if r.applied != r.total || r.cold <= 0 || r.noop <= 0 || r.change <= 0 {
				t.Fatalf("run = %+v, want every Kustomization applied and each figure measured", r)
			}
			if r.usage.rssMiB <= 0 || r.usage.cpuSeconds <= 0 {
				t.Fatalf("usage = %+v, want the controller's RSS and CPU", r.usage)
			}
			t.Logf("%s: cold %s, no-op %s (%d writes), change %s, RSS %.0f MiB", shape, r.cold, r.noop, r.noopWrites, r.change, r.usage.rssMiB)
		})
	}
}
