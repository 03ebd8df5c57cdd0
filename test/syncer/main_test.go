package syncer_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/test/cluster"
)

// host is the shared host test bed (etcd, controller manager, Gatekeeper).
var host *cluster.Cluster

// hostNode is the host Node the test "kubelet" binds host pods to.
const hostNode = "host-node-1"

// virtualControllers are the controllers vcluster runs: no node lifecycle (pseudo nodes
// have no kubelet heartbeats), no volume binding, no node IPAM.
var virtualControllers = []string{"*", "-nodeipam", "-nodelifecycle", "-persistentvolume-binder", "-attachdetach",
	"-persistentvolume-expander", "-ttl"}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var err error
	if host, err = cluster.Start(ctx, cluster.Options{Gatekeeper: true}); err != nil {
		fmt.Fprintf(os.Stderr, "test bed: starting the host: %v\n", err)
		return 1
	}
	defer host.Cleanup()
	fmt.Fprintf(os.Stderr, "test bed: host ready in %s\n", host.StartupTime.Round(time.Millisecond))
	if err := createHostNode(ctx, kubernetes.NewForConfigOrDie(host.Config)); err != nil {
		fmt.Fprintf(os.Stderr, "test bed: %v\n", err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "test bed: tests failed; host component logs follow\n%s", host.Logs(40))
	}
	return code
}

func createHostNode(ctx context.Context, cs kubernetes.Interface) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: hostNode}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating host node: %w", err)
	}
	return nil
}

// startVirtual starts a virtual control plane (kube-apiserver on kine, controller manager
// without node lifecycle) for one test.
func startVirtual(t *testing.T) *cluster.Cluster {
	t.Helper()
	v, err := cluster.Start(context.Background(), cluster.Options{Storage: cluster.Kine, Controllers: virtualControllers})
	if err != nil {
		t.Fatalf("starting the virtual control plane: %v", err)
	}
	t.Logf("virtual control plane ready in %s", v.StartupTime.Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("virtual component logs:\n%s", v.Logs(30))
		}
		v.Cleanup()
	})
	return v
}
