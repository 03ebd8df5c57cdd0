package vcluster_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/source"
)

// quietControllerRuntime gives controller-runtime's global logger a sink once, so building
// the agent's client does not print a stack about a missing logger.
var quietControllerRuntime sync.Once

// e2eTenantYAML is a tenant file with a virtual cluster on the given minor. It allows no
// hostPath, and its quota leaves room for the control plane pod and three replicas.
func e2eTenantYAML(name, minor string) string {
	return fmt.Sprintf(`apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: %s
spec:
  kubernetesVersion: %q
  owners:
  - kind: User
    name: %s-owner
  quota:
    pods: "10"
    cpu: "8"
  limits:
    default:
      cpu: 500m
`, name, minor, name)
}

// agentRun is one agent pass over a local Git repo, running in the background because it
// waits for the control plane rollout that the test itself brings about.
type agentRun struct {
	agent  *reconciler.Agent
	done   chan struct{}
	result *reconciler.Result
	err    error
}

// startAgent commits the tenant file to a fresh repo, fetches it as the agent does and
// starts one pass of an agent that rolls out virtual clusters.
func startAgent(t *testing.T, name, body string) *agentRun {
	t.Helper()
	repo, err := localrepo.Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Write("tenants/"+name+".yaml", []byte(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Commit("tenant " + name); err != nil {
		t.Fatal(err)
	}
	src, err := source.New(source.Options{URL: repo.URL(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	art, _, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	quietControllerRuntime.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	a, err := reconciler.New(host.Config, reconciler.Options{
		Instance: "e2e-" + name, VirtualClusters: true, HealthTimeout: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if err := a.InstallCRDs(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The agent's log goes to the test log; the pass ends before the test does.
	ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), testr.New(t)))
	run := &agentRun{agent: a, done: make(chan struct{})}
	go func() {
		defer close(run.done)
		run.result, run.err = a.Sync(ctx, art.Path, art.Revision)
	}()
	t.Cleanup(func() { cancel(); <-run.done })
	return run
}

// wait waits for the pass to end and fails the test if it failed.
func (r *agentRun) wait(t *testing.T, timeout time.Duration) *reconciler.Result {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("the agent pass did not end in %s", timeout)
	}
	if r.err != nil {
		t.Fatalf("agent pass: %v", r.err)
	}
	if r.result.Failed() || r.result.HeldBack != "" {
		t.Fatalf("agent pass failed: %+v", r.result)
	}
	return r.result
}

// tenant reads the host Tenant.
func (r *agentRun) tenant(t *testing.T, name string) *v1alpha1.Tenant {
	t.Helper()
	all, err := reconciler.ListTenants(context.Background(), r.agent.Client())
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i]
		}
	}
	t.Fatalf("no Tenant %s", name)
	return nil
}

// requireReady checks the Tenant's Ready condition and its status.controlPlane, and
// returns that status.
func (r *agentRun) requireReady(t *testing.T, name, version string) v1alpha1.ControlPlaneStatus {
	t.Helper()
	tn := r.tenant(t, name)
	c := apimeta.FindStatusCondition(tn.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil || c.Status != "True" {
		t.Fatalf("tenant %s not Ready: %+v", name, c)
	}
	want := v1alpha1.ControlPlaneStatus{
		Version: version, Endpoint: render.VClusterEndpoint(tn),
		KubeconfigSecret: render.KubeconfigSecretName(tn), Ready: true,
	}
	if cp := tn.Status.ControlPlane; cp == nil || *cp != want {
		t.Fatalf("status.controlPlane = %+v, want %+v", cp, want)
	}
	return want
}
