package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/status"
)

// readyLine is how one tenant's Ready condition prints as it changes ("" when it has none).
func readyLine(t *v1alpha1.Tenant) string {
	ready := apimeta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady)
	if ready == nil {
		return ""
	}
	return fmt.Sprintf("%s  Ready=%s  %s", t.Name, ready.Status, ready.Message)
}

// watchReady prints a line each time a tenant's Ready condition changes, as it happens, until
// ctx ends: a pass prints its table only when every tenant has settled, and one slow tenant
// (its image still building) must not hide the others going Ready.
func watchReady(ctx context.Context, out io.Writer, c client.Client, every time.Duration) {
	seen := map[string]string{}
	poll := func(ctx context.Context) {
		tenants, err := status.ListTenants(ctx, c)
		if err != nil {
			return
		}
		for i := range tenants {
			line := readyLine(&tenants[i])
			if line != "" && line != seen[tenants[i].Name] {
				seen[tenants[i].Name] = line
				fmt.Fprintf(out, "%s  %s\n", time.Now().Format(time.TimeOnly), line)
			}
		}
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		poll(ctx)
		select {
		case <-ctx.Done():
			// One last look, so a change in the moment before the end is printed too.
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			poll(last)
			return
		case <-tick.C:
		}
	}
}

// lockedWriter serialises the writes of the pass table and the Ready watcher.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
