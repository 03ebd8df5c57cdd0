package vcluster_test

import (
	"testing"
	"time"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// e2eTenantYAML is a tenant file with a virtual cluster on the given minor. It allows no
// hostPath, and its quota leaves room for the control plane pod and three replicas.
func e2eTenantYAML(name, minor string) string {
	return framework.TenantYAML(name, framework.Version(minor), framework.CPU("8"))
}

// startAgent commits the tenant file to a fresh repo and starts one pass of an agent that
// rolls out virtual clusters, in the background: the pass waits for the control plane
// rollout that the test itself brings about. The agent logs to the test.
func startAgent(t *testing.T, name, body string) (*framework.Env, *framework.Pass) {
	t.Helper()
	e := framework.NewEnv(t, host.Config, reconciler.Options{
		Instance: "e2e-" + name, VirtualClusters: true, HealthTimeout: 2 * time.Minute,
	})
	e.LogToTest(0)
	e.Write(name, body)
	e.Commit("tenant " + name)
	return e, e.Start()
}

// requireReady checks the Tenant's Ready condition and its status.controlPlane, and
// returns that status.
func requireReady(t *testing.T, e *framework.Env, name, version string) v1alpha1.ControlPlaneStatus {
	t.Helper()
	e.RequireReady(name)
	tn := e.Tenant(name)
	want := v1alpha1.ControlPlaneStatus{
		Version: version, Endpoint: render.VClusterEndpoint(tn),
		KubeconfigSecret: render.KubeconfigSecretName(tn), Ready: true,
	}
	if cp := tn.Status.ControlPlane; cp == nil || *cp != want {
		t.Fatalf("status.controlPlane = %+v, want %+v", cp, want)
	}
	return want
}
