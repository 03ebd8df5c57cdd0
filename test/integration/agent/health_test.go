package agent_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/controlplane"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// smallTenantYAML is the held-out scenario of issue 16: a tenant whose LimitRange gives
// containers a default CPU limit of 100m, below what the control plane requests.
var smallTenantYAML = framework.TenantYAML("small", framework.Quota("memory", "8Gi"),
	framework.DefaultLimit("cpu", "100m"), framework.DefaultLimit("memory", "256Mi"),
	framework.DefaultRequest("cpu", "50m"), framework.DefaultRequest("memory", "64Mi"))

// TestReadyIsEarnedOnEveryPass: a tenant whose control plane is not running is not Ready,
// on the pass that applied it and on every unchanged pass after; it turns Ready without a
// new commit once its pod runs, and not Ready again when the pod is lost and the host
// refuses a new one, with the host's reason. The agent runs as shipped: the service CIDR
// is discovered, not set.
func TestReadyIsEarnedOnEveryPass(t *testing.T) {
	e := newEnv(t, reconciler.Options{VirtualClusters: true, HealthTimeout: 3 * time.Second})
	const name, ns = "small", "tenant-small"
	e.Write(name, smallTenantYAML)
	e.CommitAndSync("a small tenant")
	requireServiceCIDR(t, ns, "10.96.0.0/16")
	requireControlPlaneResources(t, ns)
	for pass := range 3 {
		requireNotReady(t, e, name, pass, "health check")
		e.Sync()
	}
	requireNotReady(t, e, name, 3, "health check")

	stop := startKubelet(t, e.cs, ns)
	e.Sync()
	e.RequireReady(name)
	if cp := e.Tenant(name).Status.ControlPlane; cp == nil || !cp.Ready {
		t.Fatalf("Ready with status.controlPlane %+v", cp)
	}

	stop()
	squeeze := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "squeeze"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}}}
	if _, err := e.cs.CoreV1().ResourceQuotas(ns).Create(ctx, squeeze, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	zero := int64(0)
	if err := e.cs.CoreV1().Pods(ns).Delete(ctx, "vc-small-0", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the StatefulSet controller reports FailedCreate", func() (bool, error) {
		evs, err := e.cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "reason=FailedCreate"})
		return err == nil && len(evs.Items) > 0, err
	})
	e.Sync()
	requireNotReady(t, e, name, 4, "FailedCreate")
	if _, msg := e.Ready(name); !strings.Contains(msg, "exceeded quota: squeeze") {
		t.Fatalf("the not-Ready message does not carry the host's refusal: %q", msg)
	}
}

func requireNotReady(t *testing.T, e *env, name string, pass int, want string) {
	t.Helper()
	ok, msg := e.Ready(name)
	if ok || !strings.HasPrefix(msg, v1alpha1.ReasonHealthFailed+":") || !strings.Contains(msg, want) {
		t.Fatalf("pass %d: ready %v, %q; want not Ready (%s) mentioning %q", pass, ok, msg, v1alpha1.ReasonHealthFailed, want)
	}
	if cp := e.Tenant(name).Status.ControlPlane; cp != nil && cp.Ready {
		t.Fatalf("pass %d: not Ready but status.controlPlane.ready is true", pass)
	}
}

// requireServiceCIDR checks the virtual API server is configured with the host's service
// CIDR, which the agent discovered (the test bed's, not the flag's old default /12).
func requireServiceCIDR(t *testing.T, ns, want string) {
	t.Helper()
	cm, err := host.Clientset(t).CoreV1().ConfigMaps(ns).Get(ctx, "vc-small-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cfg controlplane.Config
	if err := yaml.Unmarshal([]byte(cm.Data["vcluster.yaml"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.ServiceCIDR != want {
		t.Fatalf("the virtual cluster's serviceCIDR is %q, want the host's %q", cfg.ServiceCIDR, want)
	}
}

// requireControlPlaneResources checks the control plane pod was admitted with its own
// explicit requests and limits, not the tenant LimitRange's 100m default.
func requireControlPlaneResources(t *testing.T, ns string) {
	t.Helper()
	eventually(t, "the control plane pod is created", func() (bool, error) {
		p, err := host.Clientset(t).CoreV1().Pods(ns).Get(ctx, "vc-small-0", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		got := p.Spec.Containers[0].Resources
		want := v1alpha1.ControlPlaneResources
		return got.Limits.Cpu().Equal(*want.Limits.Cpu()) && got.Requests.Cpu().Equal(*want.Requests.Cpu()), nil
	})
}

// TestServiceCIDRMismatchStopsTheAgent: a --service-cidr that is not the host's would have
// every tenant Service refused by the host; the agent says so before applying anything.
func TestServiceCIDRMismatchStopsTheAgent(t *testing.T) {
	e := newEnv(t, reconciler.Options{VirtualClusters: true, VCluster: render.VClusterOptions{ServiceCIDR: "10.96.0.0/12"}})
	e.Write("mismatch", framework.TenantYAML("mismatch"))
	e.Commit("a tenant")
	art := e.Fetch(ctx)
	_, err := e.Agent.Sync(ctx, art.Path, art.Revision)
	if !errors.Is(err, reconciler.ErrServiceCIDRMismatch) || !strings.Contains(err.Error(), "host 10.96.0.0/16") {
		t.Fatalf("Sync with --service-cidr 10.96.0.0/12 on a 10.96.0.0/16 host: %v, want %v naming both", err, reconciler.ErrServiceCIDRMismatch)
	}
	if _, err := e.cs.CoreV1().Namespaces().Get(ctx, "tenant-mismatch", metav1.GetOptions{}); err == nil {
		t.Fatal("the tenant's namespace was created although the agent refused to start")
	}
}
