package bench

import (
	"context"
	"fmt"
	"io"

	"github.com/tenantry/tenantry/reconciler/render"
)

// loadSystem is a virtual cluster on the real node's host that the pod loads run in:
// a tenantry tenant's, or a peer's.
type loadSystem interface {
	// system names it in the figures.
	system() string
	// start rolls it out and returns where the loads run; its control plane runs.
	start(ctx context.Context) (loadTarget, error)
	// rss is its control plane pod's RSS, MiB.
	rss(ctx context.Context) (float64, error)
	// stop removes it and waits until it is gone.
	stop(ctx context.Context) error
}

// loadTenant is the tenant the loads run in on tenantry's side.
const loadTenant = "bench-load"

// tenantryLoad is a tenant of the node bench's agent, rolled out for the loads.
type tenantryLoad struct {
	b      *nodeBench
	ns, cp string
}

func (t *tenantryLoad) system() string { return systemTenantry }

func (t *tenantryLoad) start(ctx context.Context) (loadTarget, error) {
	if err := t.b.commitAndSync(ctx, loadTenant, loadTenantYAML()); err != nil {
		return loadTarget{}, err
	}
	tn, err := t.b.readyTenant(ctx, loadTenant)
	if err != nil {
		return loadTarget{}, err
	}
	t.ns, t.cp = tn.HostNamespace(), render.VClusterName(tn)+"-0"
	cfg, err := t.b.virtualConfig(ctx, tn)
	if err != nil {
		return loadTarget{}, err
	}
	virtual, err := loadClient(cfg)
	if err != nil {
		return loadTarget{}, err
	}
	host, err := loadClient(t.b.c.Config)
	if err != nil {
		return loadTarget{}, err
	}
	return loadTarget{host: host, virtual: virtual, hostNS: t.ns, node: standinNode, schedulerBinds: true, origin: tenantryOrigin}, nil
}

func (t *tenantryLoad) rss(ctx context.Context) (float64, error) { return t.b.podRSS(ctx, t.ns, t.cp) }

func (t *tenantryLoad) stop(ctx context.Context) error { return t.b.remove(ctx, loadTenant, t.ns) }

// loadTenantYAML is the load's tenant: no quota or limit range (the peer's namespace has
// none either), and the stand-in's taint among what its pods may tolerate (nodeDefaultsYAML
// grants it), so that its syncer copies the load pods' toleration of it.
func loadTenantYAML() string {
	return benchTenantYAML(loadTenant, "pods:", "  tolerations: [{key: "+standinTaint+", operator: Exists, effect: NoSchedule}]")
}

// runLoadSystem rolls sys out, readies the stand-in once its control plane runs, runs the
// loads, and removes everything again.
func runLoadSystem(ctx context.Context, sys loadSystem, log io.Writer) (run *loadRun, err error) {
	target, err := sys.start(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", sys.system(), err)
	}
	defer func() {
		if stopErr := sys.stop(ctx); err == nil && stopErr != nil {
			err = fmt.Errorf("removing %s: %w", sys.system(), stopErr)
		}
	}()
	s, err := startStandinHost(ctx, target.host, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if closeErr := s.close(ctx); err == nil && closeErr != nil {
			err = closeErr
		}
	}()
	return runLoads(ctx, s, target, sys.rss)
}
