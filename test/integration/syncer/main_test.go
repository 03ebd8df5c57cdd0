package syncer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/internal/standin"
	"github.com/tenantry/tenantry/test/framework"
)

// host is the shared host test bed (etcd, controller manager, Gatekeeper).
var host *framework.Cluster

// hostNode is the host Node the stand-in kubelet binds host pods to.
const hostNode = "host-node-1"

// virtualControllers are the controllers vcluster runs: no node lifecycle (pseudo nodes
// have no kubelet heartbeats), no volume binding, no node IPAM.
var virtualControllers = []string{"*", "-nodeipam", "-nodelifecycle", "-persistentvolume-binder", "-attachdetach",
	"-persistentvolume-expander", "-ttl"}

func TestMain(m *testing.M) {
	framework.Main(m, localcluster.Options{Gatekeeper: true}, &host)
}

// hostNodeOnce creates hostNode on the host, once for the package.
var hostNodeOnce struct {
	sync.Once
	err error
}

// requireHostNode makes sure hostNode exists.
func requireHostNode(t *testing.T) {
	t.Helper()
	hostNodeOnce.Do(func() {
		hostNodeOnce.err = (&standin.Kubelet{Client: host.Clientset(t), Node: hostNode}).CreateNode(context.Background())
	})
	if hostNodeOnce.err != nil {
		t.Fatal(hostNodeOnce.err)
	}
}

// startVirtual starts a virtual control plane (kube-apiserver on kine, controller manager
// without node lifecycle) for one test.
func startVirtual(t *testing.T) *framework.Cluster {
	t.Helper()
	v, err := framework.Start(context.Background(), localcluster.Options{Storage: localcluster.Kine, Controllers: virtualControllers})
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
