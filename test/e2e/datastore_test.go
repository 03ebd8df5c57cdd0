package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// TestExternalDatastore runs a tenant's virtual cluster on a real Postgres (Debian's
// package, started by the test bed) whose connection string sits in a Secret of the
// tenant's namespace, with isolation on and no data volume: objects created through real
// kubectl survive the control plane pod's restart, so they live in Postgres, and the
// connection string appears in no ConfigMap and no pod spec.
func TestExternalDatastore(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name, ns, password = "node-db", "tenant-node-db", "kine-pw-7f3a"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	pg, err := localcluster.StartPostgres(ctx, apiServerIP(t), "kine", password)
	cancel()
	if errors.Is(err, localcluster.ErrNoPostgres) {
		t.Fatalf("the node is here but Postgres is not: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	dumpPodLogsOnFailure(t, ns)

	g := newGitAgent(t, "e2e-"+name)
	g.commit(name, tenantYAML(name, "1.37", framework.Spec("  datastore:", "    type: Postgres", "    secretRef: {name: tenant-db}")))
	pass := make(chan error, 1)
	go func() {
		if res := g.Sync(); res.Failed() {
			pass <- errors.New("the pass failed")
			return
		}
		pass <- nil
	}()
	// The platform team puts the connection string in the tenant's namespace once it exists.
	cs := host.Clientset(t)
	framework.Eventually(t, time.Minute, "the tenant namespace", func() (bool, error) {
		_, err := cs.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
		return err == nil, client404(err)
	})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tenant-db"}, StringData: map[string]string{"endpoint": pg.URL("kine", password)}}
	if _, err := cs.CoreV1().Secrets(ns).Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-pass; err != nil {
		t.Fatal(err)
	}
	tn := readyTenant(t, g.Agent, name)
	requireNoConnectionString(t, ns, password)

	k := tenantKubectl(t, name)
	k.run(t, "create", "configmap", "kept", "--from-literal=in=postgres")
	pod := render.VClusterName(tn) + "-0"
	if err := cs.CoreV1().Pods(ns).Delete(context.Background(), pod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPodReplaced(t, ns, pod)
	waitKubectl(t, k, "ConfigMap kept after the control plane restarted without a volume",
		func(out string, err error) bool { return err == nil && out == "postgres" },
		"get", "configmap", "kept", "-o", "jsonpath={.data.in}")
}

func client404(err error) error {
	if err == nil || apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// requireNoConnectionString fails if the datastore's password shows in any ConfigMap of the
// namespace or in the control plane pod's spec (it must come from the Secret at run time).
func requireNoConnectionString(t *testing.T, ns, password string) {
	t.Helper()
	cs := host.Clientset(t)
	cms, err := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range cms.Items {
		for k, v := range cm.Data {
			if strings.Contains(v, password) {
				t.Fatalf("ConfigMap %s key %s holds the datastore's password", cm.Name, k)
			}
		}
	}
	pods, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		for _, c := range p.Spec.Containers {
			for _, e := range c.Env {
				if strings.Contains(e.Value, password) {
					t.Fatalf("pod %s container %s env %s holds the datastore's password", p.Name, c.Name, e.Name)
				}
			}
		}
	}
}
