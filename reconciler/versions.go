package reconciler

import (
	"context"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/reconciler/status"
)

// versionWatch gives a pass the host Tenants' resourceVersions: listed (status.ListVersions)
// until the watch the first successful list starts has synced, from the watch after that
// (status.Versions), so a pass over thousands of unchanged tenants lists none of them.
type versionWatch struct {
	cfg   *rest.Config
	mu    sync.Mutex
	watch *status.Versions
}

func (w *versionWatch) get(ctx context.Context, c client.Client, instance string) (map[string]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watch != nil && w.watch.Synced() {
		return w.watch.Snapshot(), nil
	}
	versions, err := status.ListVersions(ctx, c, instance)
	if err != nil || w.watch != nil || w.cfg == nil {
		return versions, err
	}
	// The list shows the Tenants are served and readable: watch them from now on.
	if w.watch, err = status.WatchVersions(w.cfg, instance); err != nil {
		logr.FromContextOrDiscard(ctx).Error(err, "watching the host Tenants failed; listing them on every pass")
		w.cfg = nil
	}
	return versions, nil
}

func (w *versionWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watch != nil {
		w.watch.Stop()
		w.watch = nil
	}
	w.cfg = nil
}
