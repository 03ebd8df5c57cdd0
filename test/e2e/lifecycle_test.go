package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/status"
	"github.com/tenantry/tenantry/test/framework"
)

// TestTenantPauseResumeAndDelete runs an echo pod in a tenant's virtual cluster on the
// node, pauses the tenant from Git (every container of the tenant stops), resumes it (the
// control plane and the echo container come back, the same virtual pod), then removes the
// tenant file with deletionPolicy Delete: every container and host object is gone.
func TestTenantPauseResumeAndDelete(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-p"
	// The virtual cluster's data must outlive the paused pod: a volume of the node's
	// default StorageClass, on its disk.
	body := tenantYAML(name, "1.37", framework.Persistence("1Gi"), framework.Spec("  deletionPolicy: Delete"))
	g := newGitAgent(t, "e2e-"+name)
	// A second, paused tenant keeps the repo from going empty when node-p's file goes: the
	// agent holds back a checkout without tenant files instead of pruning everything.
	g.commit("node-keep", tenantYAML("node-keep", "1.37", framework.Spec("  paused: true")))
	g.commit(name, body)
	g.SyncOK()
	tn := readyTenant(t, g.Agent, name)
	ns := tn.HostNamespace()
	dumpPodLogsOnFailure(t, ns)
	virtual := virtualClient(t, ns, render.VClusterName(tn), render.KubeconfigSecretName(tn))
	vpods, _ := runEcho(t, virtual, 1)
	echoHost := wellknown.HostName(vpods[0].Name, "default", name)

	g.commit(name, body+"  paused: true\n")
	began := time.Now()
	g.SyncOK()
	waitContainers(t, ns, "no container of the paused tenant", func(list []localcluster.NodeContainer) bool { return len(list) == 0 })
	t.Logf("paused: every container of %s stopped %s after the pass began", ns, time.Since(began).Round(time.Millisecond))

	g.commit(name, body)
	began = time.Now()
	g.SyncOK()
	readyTenant(t, g.Agent, name)
	waitContainers(t, ns, "the echo container back", func(list []localcluster.NodeContainer) bool { return hasContainer(list, echoHost, "echo") })
	t.Logf("resumed: the echo container of %s runs again %s after the pass began", echoHost, time.Since(began).Round(time.Millisecond))

	g.commit(name, "")
	began = time.Now()
	g.SyncOK()
	requireTenantGone(t, g.Agent, name, ns)
	t.Logf("deleted: the namespace, its containers and the Tenant gone %s after the pass began", time.Since(began).Round(time.Millisecond))
}

// waitContainers waits until the node's running containers of ns satisfy ok.
func waitContainers(t *testing.T, ns, what string, ok func([]localcluster.NodeContainer) bool) {
	t.Helper()
	framework.Eventually(t, 2*time.Minute, what, func() (bool, error) {
		list, err := host.RunningContainers(context.Background(), ns)
		if err != nil {
			return false, err
		}
		return ok(list), fmt.Errorf("running containers %+v", list)
	})
}

// requireTenantGone waits until the tenant's namespace, its containers on the node, its
// volumes, its Tenant object and every cluster-scoped object labelled with it are gone.
func requireTenantGone(t *testing.T, a *reconciler.Agent, name, ns string) {
	t.Helper()
	ctx := context.Background()
	cs := host.Clientset(t)
	sel := render.LabelTenant + "=" + name
	framework.Eventually(t, 3*time.Minute, "the tenant's host objects and containers to go", func() (bool, error) {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("namespace %s still there (err %w)", ns, err)
		}
		if list, err := host.RunningContainers(ctx, ns); err != nil || len(list) > 0 {
			return false, fmt.Errorf("containers %+v (err %w)", list, err)
		}
		crs, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil || len(crs.Items) > 0 {
			return false, fmt.Errorf("cluster roles of the tenant remain: %d (err %w)", len(crs.Items), err)
		}
		crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil || len(crbs.Items) > 0 {
			return false, fmt.Errorf("cluster role bindings of the tenant remain: %d (err %w)", len(crbs.Items), err)
		}
		pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, pv := range pvs.Items {
			if pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.Namespace == ns {
				return false, fmt.Errorf("volume %s of %s remains (%s)", pv.Name, ns, pv.Status.Phase)
			}
		}
		all, err := status.ListTenants(ctx, a.Client())
		if err != nil {
			return false, err
		}
		for _, tn := range all {
			if tn.Name == name {
				return false, fmt.Errorf("Tenant %s still there", name)
			}
		}
		return true, nil
	})
}
