package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// fluxUser and fluxSourceUser are the identities kustomize-controller and
// source-controller authenticate as, so the audit log attributes their requests.
const (
	fluxUser       = "flux-kustomize-controller"
	fluxSourceUser = "flux-source-controller"
)

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

// runFlux measures Flux (source-controller fetching the repo over Git, kustomize-controller
// applying it) with exactly the objects tenantry applies for n tenants, laid out in shape,
// on a fresh host control plane with Gatekeeper. Each wait is cut at limit.
func runFlux(ctx context.Context, n int, work string, shape fluxShape, limit time.Duration, log io.Writer) (*fluxRun, error) {
	bins, err := fluxBinaries()
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
	env, err := newFluxEnv(ctx, c, bins, filepath.Join(work, "flux"), rendered, shape)
	if err != nil {
		return nil, err
	}
	defer env.stop()
	return env.measure(ctx, limit, log)
}

// fluxBinaries finds the directory of the cached source-controller and kustomize-controller
// and their CRDs (hack/components.sh flux).
func fluxBinaries() (string, error) {
	return peerComponent("flux", "source-controller", "kustomize-controller")
}

// measure runs the cold, no-op and one-change figures.
func (e *fluxEnv) measure(ctx context.Context, limit time.Duration, log io.Writer) (*fluxRun, error) {
	r := &fluxRun{}
	rev, err := e.commit("cold")
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := e.createSource(ctx); err != nil {
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

// noop asks the GitRepository and every Kustomization to reconcile, as `flux reconcile
// kustomization --with-source` does, and waits until each handled the request; it counts
// both controllers' mutating requests.
func (e *fluxEnv) noop(ctx context.Context, limit time.Duration) (time.Duration, int, error) {
	before, err := e.mutatingRequests()
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	token := start.UTC().Format(time.RFC3339Nano)
	if err := e.requestReconcile(ctx, gitRepositoryGVR, []string{gitRepositoryName}, token); err != nil {
		return 0, 0, err
	}
	if err := e.requestReconcile(ctx, kustomizationGVR, e.kustomizations, token); err != nil {
		return 0, 0, err
	}
	if err := e.waitHandled(ctx, token, start.Add(limit)); err != nil {
		return 0, 0, fmt.Errorf("no-op: %w", err)
	}
	took := time.Since(start)
	after, err := e.mutatingRequests()
	return took, after - before, err
}

// mutatingRequests counts both controllers' mutating requests in the audit log.
func (e *fluxEnv) mutatingRequests() (int, error) {
	n := 0
	for _, user := range []string{fluxSourceUser, fluxUser} {
		m, err := e.c.MutatingRequests(user)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}

// changeOne raises one tenant's pod quota, commits it, asks the GitRepository to
// reconcile (as a push webhook would) and waits until the Kustomization holding that
// tenant applied the commit.
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
	rev, err := e.commit("raise t0000's pod quota")
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := e.requestReconcile(ctx, gitRepositoryGVR, []string{gitRepositoryName}, start.UTC().Format(time.RFC3339Nano)); err != nil {
		return 0, err
	}
	n, err := e.waitApplied(ctx, []string{e.kustomizationOf(t.name)}, rev, start.Add(limit))
	if err == nil && n == 0 {
		err = errors.New("the change was not applied within the limit")
	}
	return time.Since(start), err
}
