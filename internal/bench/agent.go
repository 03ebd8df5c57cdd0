package bench

import (
	"context"

	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/source"
	"github.com/tenantry/tenantry/reconciler/status"
)

// agentUser is the identity the benchmarked agent authenticates as, so the audit log
// attributes its requests.
const agentUser = "tenantry-agent"

// ObjectsPerTenant is what each benchmark tenant renders to: namespace, quota, limit
// range, five network policies and two constraints, plus the Tenant mirror.
const ObjectsPerTenant = 11

// agentRun is one cold/no-op/change sequence on a fresh host control plane.
type agentRun struct {
	cold, noop, change       time.Duration
	noopWrites, changeWrites int
	// apiserverCPU and etcdCPU are the control plane's CPU seconds over the whole run.
	apiserverCPU, etcdCPU float64
}

// tenantFile is a benchmark tenant: ten rendered objects and the Tenant mirror.
func tenantFile(i, pods int) string {
	name := fmt.Sprintf("t%04d", i)
	return fmt.Sprintf(`apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: %s
spec:
  owners: [{kind: Group, name: %s-admins}]
  quota: {cpu: "2", memory: 4Gi, pods: "%d"}
  limits:
    default: {cpu: 500m, memory: 512Mi}
    defaultRequest: {cpu: 100m, memory: 128Mi}
  network:
    allowFromNamespaces: [ingress-nginx]
  policies:
  - template: K8sBlockNodePort
  - template: K8sNoPrivileged
`, name, name, pods)
}

// writeTenants creates a tenants repo of n tenants and commits it.
func writeTenants(dir string, n int) (*localrepo.Repo, error) {
	repo, err := localrepo.Init(dir)
	if err != nil {
		return nil, err
	}
	for i := range n {
		if err := repo.Write(fmt.Sprintf("tenants/t%04d.yaml", i), []byte(tenantFile(i, 20))); err != nil {
			return nil, err
		}
	}
	if _, err := repo.Commit(fmt.Sprintf("%d tenants", n)); err != nil {
		return nil, err
	}
	return repo, nil
}

// runAgent measures, on a fresh host control plane with Gatekeeper: the cold reconcile of
// n tenants, a no-op pass (time and mutating requests, from the audit log), and a
// one-tenant change from commit to applied.
func runAgent(ctx context.Context, n int, work string) (*agentRun, error) {
	c, err := localcluster.Start(ctx, localcluster.Options{Gatekeeper: true, AuditLog: true, Dir: filepath.Join(work, "cluster"),
		Profiling: os.Getenv(profileEnv) != ""})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	repo, err := writeTenants(filepath.Join(work, "repo"), n)
	if err != nil {
		return nil, err
	}
	agent, src, err := newAgent(c, work)
	if err != nil {
		return nil, err
	}
	defer agent.Close()
	r := &agentRun{}
	ph := newPhases(c, os.Stderr)
	onePass := func() error { return pass(ctx, agent, src, n) }
	if r.cold, _, err = ph.measure(ctx, "cold", func() error {
		if err := agent.InstallCRDs(ctx); err != nil {
			return err
		}
		return onePass()
	}); err != nil {
		return nil, err
	}
	if r.noop, r.noopWrites, err = ph.measure(ctx, "no-op", onePass); err != nil {
		return nil, err
	}
	if err := repo.Write("tenants/t0000.yaml", []byte(tenantFile(0, 21))); err != nil {
		return nil, err
	}
	if _, err := repo.Commit("raise t0000's pod quota"); err != nil {
		return nil, err
	}
	if r.change, r.changeWrites, err = ph.measure(ctx, "one change", onePass); err != nil {
		return nil, err
	}
	pids := c.PIDs()
	r.apiserverCPU, r.etcdCPU = processCPU(pids["kube-apiserver"]), processCPU(pids["etcd"])
	return r, nil
}

func newAgent(c *localcluster.Cluster, work string) (*reconciler.Agent, *source.Source, error) {
	lib, err := policy.Library()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := c.ConfigFor(agentUser, "system:masters")
	if err != nil {
		return nil, nil, err
	}
	cfg.QPS, cfg.Burst = reconciler.DefaultQPS, reconciler.DefaultBurst // as `tenantry agent` runs
	// The agent records each pass's revision in its namespace, as the chart installs it.
	if err := c.CreateNamespace(context.Background(), status.DefaultAgentNamespace); err != nil {
		return nil, nil, err
	}
	agent, err := reconciler.New(cfg, reconciler.Options{Workers: benchWorkers(), Templates: lib, HealthTimeout: 5 * time.Minute,
		RecordNamespace: status.DefaultAgentNamespace})
	if err != nil {
		return nil, nil, err
	}
	src, err := source.New(source.Options{URL: "file://" + filepath.Join(work, "repo"), Dir: filepath.Join(work, "checkouts")})
	if err != nil {
		agent.Close()
		return nil, nil, err
	}
	return agent, src, nil
}

// pass fetches and reconciles once, and checks every tenant came out Ready.
func pass(ctx context.Context, agent *reconciler.Agent, src *source.Source, n int) error {
	art, _, err := src.Fetch(ctx)
	if err != nil {
		return err
	}
	res, err := agent.Sync(ctx, art.Path, art.Revision)
	if err != nil {
		return err
	}
	if res.Failed() || len(res.Tenants) != n {
		return fmt.Errorf("%d tenants reconciled, failed: %v", len(res.Tenants), firstError(res))
	}
	return nil
}

func firstError(res *reconciler.Result) string {
	var msgs []string
	for _, t := range res.Tenants {
		if t.Err != nil {
			msgs = append(msgs, t.Name+": "+t.Err.Error())
		}
	}
	for _, f := range res.Invalid {
		msgs = append(msgs, f.Errors.Error())
	}
	if len(msgs) > 3 {
		msgs = msgs[:3]
	}
	return strings.Join(msgs, "; ")
}

// peakRSS is the process's peak resident set size in MiB (VmHWM).
func peakRSS() float64 { return procStatusMiB("/proc/self/status", "VmHWM:") }

// benchWorkers is the agent's worker count: `tenantry agent`'s default, or TENANTRY_BENCH_WORKERS.
func benchWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("TENANTRY_BENCH_WORKERS")); err == nil && n > 0 {
		return n
	}
	return reconciler.DefaultWorkers
}

// selfCPU is this process's user plus system CPU seconds so far.
func selfCPU() float64 { return processCPU(os.Getpid()) }
