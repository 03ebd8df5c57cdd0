package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/syncer/translate"
	"github.com/tenantry/tenantry/test/cluster"
)

// TestTenantPauseResumeAndDelete runs an echo pod in a tenant's virtual cluster on the
// node, pauses the tenant from Git (every container of the tenant stops), resumes it (the
// control plane and the echo container come back, the same virtual pod), then removes the
// tenant file with deletionPolicy Delete: every container and host object is gone.
func TestTenantPauseResumeAndDelete(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name = "node-p"
	// The virtual cluster's data must outlive the paused pod: a PV on the node's disk.
	body := strings.Replace(tenantYAML(name, "1.37"), `size: "0"`, `size: 1Gi
    storageClassName: `+nodeDiskClass(t, name), 1) + "  deletionPolicy: Delete\n"
	g := newGitAgent(t, "e2e-"+name)
	// A second, paused tenant keeps the repo from going empty when node-p's file goes: the
	// agent holds back a checkout without tenant files instead of pruning everything.
	g.commit("node-keep", tenantYAML("node-keep", "1.37")+"  paused: true\n")
	g.commit(name, body)
	g.sync()
	tn := readyTenant(t, g.agent, name)
	ns := tn.HostNamespace()
	dumpPodLogsOnFailure(t, ns)
	virtual := virtualClient(t, ns, render.VClusterName(tn), render.KubeconfigSecretName(tn))
	vpods, _ := runEcho(t, virtual, 1)
	echoHost := translate.HostName(vpods[0].Name, "default", name)

	g.commit(name, body+"  paused: true\n")
	began := time.Now()
	g.sync()
	waitContainers(t, ns, "no container of the paused tenant", func(list []cluster.NodeContainer) bool { return len(list) == 0 })
	t.Logf("paused: every container of %s stopped %s after the pass began", ns, time.Since(began).Round(time.Millisecond))

	g.commit(name, body)
	began = time.Now()
	g.sync()
	readyTenant(t, g.agent, name)
	waitContainers(t, ns, "the echo container back", func(list []cluster.NodeContainer) bool { return hasContainer(list, echoHost, "echo") })
	t.Logf("resumed: the echo container of %s runs again %s after the pass began", echoHost, time.Since(began).Round(time.Millisecond))

	g.commit(name, "")
	began = time.Now()
	g.sync()
	requireTenantGone(t, g.agent, name, ns)
	t.Logf("deleted: the namespace, its containers and the Tenant gone %s after the pass began", time.Since(began).Round(time.Millisecond))
}

// nodeDiskClass creates a StorageClass without provisioner and a PV on the node's disk
// pre-bound to the data claim of tenant's control plane, and returns the class.
func nodeDiskClass(t *testing.T, tenant string) string {
	t.Helper()
	ctx := context.Background()
	cs := host.Clientset(t)
	class := "e2e-disk-" + tenant
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Provisioner: "kubernetes.io/no-provisioner"}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // the control plane runs as a non-root user
		t.Fatal(err)
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: class},
		Spec: corev1.PersistentVolumeSpec{
			StorageClassName: class, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}},
			ClaimRef:               &corev1.ObjectReference{Namespace: "tenant-" + tenant, Name: "data-vc-" + tenant + "-0"},
		},
	}
	if _, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().PersistentVolumes().Delete(ctx, class, metav1.DeleteOptions{})
		_ = cs.StorageV1().StorageClasses().Delete(ctx, class, metav1.DeleteOptions{})
	})
	return class
}

// waitContainers waits until the node's running containers of ns satisfy ok.
func waitContainers(t *testing.T, ns, what string, ok func([]cluster.NodeContainer) bool) {
	t.Helper()
	cluster.Eventually(t, 2*time.Minute, what, func() (bool, error) {
		list, err := host.RunningContainers(context.Background(), ns)
		if err != nil {
			return false, err
		}
		return ok(list), fmt.Errorf("running containers %+v", list)
	})
}

// requireTenantGone waits until the tenant's namespace, its containers on the node, its
// Tenant object and every cluster-scoped object labelled with it are gone.
func requireTenantGone(t *testing.T, a *reconciler.Agent, name, ns string) {
	t.Helper()
	ctx := context.Background()
	cs := host.Clientset(t)
	sel := render.LabelTenant + "=" + name
	cluster.Eventually(t, 3*time.Minute, "the tenant's host objects and containers to go", func() (bool, error) {
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
		all, err := reconciler.ListTenants(ctx, a.Client())
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
