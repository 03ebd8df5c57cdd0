package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/source"
)

// quietControllerRuntime gives controller-runtime's global logger a sink once.
var quietControllerRuntime sync.Once

// tenantYAML is a tenant with a virtual cluster on minor whose data sits on an emptyDir
// (size 0): the node has no storage provisioner.
func tenantYAML(name, minor string) string {
	return fmt.Sprintf(`apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: %s
spec:
  kubernetesVersion: %q
  owners:
  - kind: User
    name: %s-owner
  persistence:
    size: "0"
  quota:
    pods: "10"
    cpu: "8"
  limits:
    default:
      cpu: 500m
`, name, minor, name)
}

// syncTenant commits the tenant file to a fresh repo and runs one pass of an agent that
// rolls out virtual clusters with the locally imported image; the pass waits for the
// control plane's rollout. It returns the agent and the pass's duration.
func syncTenant(t *testing.T, name, body string) (*reconciler.Agent, time.Duration) {
	t.Helper()
	ctx := logr.NewContext(context.Background(), testr.New(t))
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
	began := time.Now()
	src, err := source.New(source.Options{URL: repo.URL(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	art, _, err := src.Fetch(ctx)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	quietControllerRuntime.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	a, err := reconciler.New(host.Config, reconciler.Options{
		Instance: "e2e-" + name, VirtualClusters: true, HealthTimeout: 3 * time.Minute,
		VCluster: render.VClusterOptions{ImageRepository: render.DefaultVClusterImage, PullPolicy: corev1.PullNever, ServiceCIDR: "10.96.0.0/16"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if err := a.InstallCRDs(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := a.Sync(ctx, art.Path, art.Revision)
	if err != nil {
		t.Fatalf("agent pass: %v", err)
	}
	if res.Failed() || res.HeldBack != "" {
		t.Fatalf("agent pass failed: %+v", res)
	}
	return a, time.Since(began)
}

// readyTenant returns the host Tenant and fails unless it is Ready with a control plane.
func readyTenant(t *testing.T, a *reconciler.Agent, name string) *v1alpha1.Tenant {
	t.Helper()
	all, err := reconciler.ListTenants(context.Background(), a.Client())
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		if all[i].Name != name {
			continue
		}
		c := apimeta.FindStatusCondition(all[i].Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != "True" || all[i].Status.ControlPlane == nil || !all[i].Status.ControlPlane.Ready {
			t.Fatalf("tenant %s not Ready: %+v, control plane %+v", name, c, all[i].Status.ControlPlane)
		}
		return &all[i]
	}
	t.Fatalf("no Tenant %s", name)
	return nil
}
