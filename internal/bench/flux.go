package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// fluxShape is how Flux users lay out a one-file-per-tenant repo.
type fluxShape string

// The two shapes the benchmark runs.
const (
	fluxPerTenant fluxShape = "Flux, one Kustomization per tenant"
	fluxAll       fluxShape = "Flux, one Kustomization over all tenants"
)

// fluxUser is the identity kustomize-controller authenticates as, so the audit log
// attributes its requests.
const fluxUser = "flux-kustomize-controller"

// fluxRun is one cold/no-op/change sequence of Flux on a fresh host control plane.
type fluxRun struct {
	cold, noop, change time.Duration
	// applied and total count Kustomizations applied at the cold revision; when the
	// limit cut the run short, applied < total and no-op and change were not measured.
	applied, total int
	noopWrites     int
	usage          usage
}

// usage is the resources a run's processes used.
type usage struct {
	rssMiB, cpuSeconds, apiserverCPU, etcdCPU float64
}

// runFlux measures Flux's kustomize-controller applying exactly the objects tenantry
// applies for n tenants, laid out in shape, on a fresh host control plane with Gatekeeper.
// Each wait is cut at limit.
func runFlux(ctx context.Context, n int, work string, shape fluxShape, limit time.Duration, log io.Writer) (*fluxRun, error) {
	bin, err := fluxBinary()
	if err != nil {
		return nil, err
	}
	if _, err := writeTenants(filepath.Join(work, "repo"), n); err != nil {
		return nil, err
	}
	rendered, err := renderRepo(filepath.Join(work, "repo"))
	if err != nil {
		return nil, err
	}
	c, err := localcluster.Start(ctx, localcluster.Options{Gatekeeper: true, AuditLog: true, Dir: filepath.Join(work, "cluster")})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	env, err := newFluxEnv(ctx, c, bin, filepath.Join(work, "flux"), rendered, shape)
	if err != nil {
		return nil, err
	}
	defer env.stop()
	return env.measure(ctx, limit, log)
}

// fluxBinary finds the cached kustomize-controller (hack/components.sh flux).
func fluxBinary() (string, error) {
	dir, err := localcluster.ComponentsDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "flux", "kustomize-controller")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("kustomize-controller is not built (run hack/components.sh flux): %w", err)
	}
	return bin, nil
}

// measure runs the cold, no-op and one-change figures.
func (e *fluxEnv) measure(ctx context.Context, limit time.Duration, log io.Writer) (*fluxRun, error) {
	r := &fluxRun{}
	start := time.Now()
	rev, err := e.publish(ctx, "cold")
	if err != nil {
		return nil, err
	}
	if err := e.createKustomizations(ctx); err != nil {
		return nil, err
	}
	r.total = len(e.kustomizations)
	r.applied, err = e.waitApplied(ctx, e.kustomizations, rev, start.Add(limit))
	r.cold = time.Since(start)
	if err != nil || r.applied < r.total {
		fmt.Fprintf(log, "bench: %s: %d of %d Kustomizations applied at %.0f s\n", e.shape, r.applied, r.total, r.cold.Seconds())
		r.usage = e.usage()
		return r, err
	}
	if r.noop, r.noopWrites, err = e.noop(ctx, limit); err != nil {
		return nil, err
	}
	if r.change, err = e.changeOne(ctx, limit); err != nil {
		return nil, err
	}
	r.usage = e.usage()
	return r, nil
}

// noop asks every Kustomization to reconcile, as `flux reconcile` does, and waits until
// each handled the request; it counts kustomize-controller's mutating requests.
func (e *fluxEnv) noop(ctx context.Context, limit time.Duration) (time.Duration, int, error) {
	before, err := e.c.MutatingRequests(fluxUser)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	token, err := e.requestReconcile(ctx)
	if err != nil {
		return 0, 0, err
	}
	if err := e.waitHandled(ctx, token, start.Add(limit)); err != nil {
		return 0, 0, fmt.Errorf("no-op: %w", err)
	}
	took := time.Since(start)
	after, err := e.c.MutatingRequests(fluxUser)
	return took, after - before, err
}

// changeOne raises one tenant's pod quota, publishes the commit and waits until the
// Kustomization holding that tenant applied it.
func (e *fluxEnv) changeOne(ctx context.Context, limit time.Duration) (time.Duration, error) {
	t := &e.rendered.tenants[0]
	for _, o := range t.objects {
		if o.GetKind() == "ResourceQuota" {
			if err := unstructured.SetNestedField(o.Object, "21", "spec", "hard", "pods"); err != nil {
				return 0, fmt.Errorf("editing the quota: %w", err)
			}
		}
	}
	if err := e.writeTenant(*t); err != nil {
		return 0, err
	}
	start := time.Now()
	rev, err := e.publish(ctx, "raise t0000's pod quota")
	if err != nil {
		return 0, err
	}
	n, err := e.waitApplied(ctx, []string{e.kustomizationOf(t.name)}, rev, start.Add(limit))
	if err == nil && n == 0 {
		err = errors.New("the change was not applied within the limit")
	}
	return time.Since(start), err
}
