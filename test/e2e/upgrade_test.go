package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/test/framework"
)

// TestUpgradeKeepsData creates objects in a tenant's virtual cluster on Kubernetes 1.36,
// moves the tenant file to 1.37 and finds them again on the upgraded control plane, through
// real kubectl and the same `tenantry kubeconfig --port-forward` across the restart.
func TestUpgradeKeepsData(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.36.3.tar")
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-up"
	dumpPodLogsOnFailure(t, "tenant-"+name)
	file := func(minor string) string {
		return framework.TenantYAML(name, framework.Version(minor), framework.Persistence("1Gi"),
			framework.CPU("8"), framework.DefaultRequest("cpu", "50m"))
	}
	g := newGitAgent(t, "e2e-"+name)
	g.commit(name, file("1.36"))
	g.SyncOK()
	readyTenant(t, g.Agent, name)
	k := tenantKubectl(t, name)
	if v := serverVersion(t, k); v != "v1.36.3" {
		t.Fatalf("server version %q, want v1.36.3", v)
	}
	k.run(t, "create", "namespace", "kept")
	k.run(t, "-n", "kept", "create", "configmap", "state", "--from-literal=written-on=1.36")
	k.run(t, "-n", "kept", "create", "serviceaccount", "robot")

	g.commit(name, file("1.37"))
	g.SyncOK()
	tn := readyTenant(t, g.Agent, name)
	if tn.Status.ControlPlane.Version != "v1.37.2" {
		t.Fatalf("status.controlPlane.version %q, want v1.37.2", tn.Status.ControlPlane.Version)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for serverVersion(t, k) != "v1.37.2" {
		if time.Now().After(deadline) {
			t.Fatal("the forwarded virtual API does not answer as v1.37.2 after 3m")
		}
		time.Sleep(2 * time.Second)
	}
	if got := k.run(t, "-n", "kept", "get", "configmap", "state", "-o", "jsonpath={.data.written-on}"); got != "1.36" {
		t.Fatalf("ConfigMap written on 1.36 reads %q after the upgrade", got)
	}
	if got := k.run(t, "-n", "kept", "get", "serviceaccount", "robot", "-o", "name"); strings.TrimSpace(got) != "serviceaccount/robot" {
		t.Fatalf("ServiceAccount after the upgrade: %q", got)
	}
}

// serverVersion is the virtual API server's gitVersion as kubectl reports it, or "" while
// it does not answer.
func serverVersion(t *testing.T, k *kubectl) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _, err := k.exec(ctx, nil, "version", "-o", "json", "--request-timeout=10s")
	var v struct {
		ServerVersion struct {
			GitVersion string `json:"gitVersion"`
		} `json:"serverVersion"`
	}
	if err != nil || json.Unmarshal([]byte(out), &v) != nil {
		return ""
	}
	return v.ServerVersion.GitVersion
}
