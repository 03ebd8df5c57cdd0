package vcluster_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/controlplane"
	"github.com/tenantry/tenantry/test/framework"
)

// TestPodLogsReachHost asks the virtual API server for a pod's logs: it dials the virtual
// node's kubelet, which is the syncer's kubelet API (mutual TLS from the virtual CA), which
// asks the host API for the host copy's logs. The test bed's host node has no kubelet, so
// the host refuses; the refusal, naming the host pod, comes back through the virtual API.
func TestPodLogsReachHost(t *testing.T) {
	kubeletPort := freePort(t)
	v := newVCluster(t, "v1.37.2", func(c *controlplane.Config) { c.KubeletPort = kubeletPort })
	v.start()
	v.waitReady()
	requireServiceAccount(t, v)
	virtual := v.virtual(wellknown.SecretKeyConfigLocal)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "client", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if _, err := virtual.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k := newKubelet(t, "logs-node")
	hostName := wellknown.HostName("client", "default", v.cfg.Name)
	k.start(k.waitPod(v.cfg.HostNamespace, hostName, time.Minute), "10.244.7.7")
	k.running(v.cfg.HostNamespace, hostName)
	requireNodePointsAtSyncer(t, virtual, "logs-node", kubeletPort)

	want := "host pod " + v.cfg.HostNamespace + "/" + hostName + ": "
	var last string
	framework.Eventually(t, 30*time.Second, "the virtual pod's logs answered by the syncer", func() (bool, error) {
		tail := int64(5)
		body, err := virtual.CoreV1().Pods("default").GetLogs("client", &corev1.PodLogOptions{Container: "c", TailLines: &tail}).DoRaw(ctx)
		if err == nil {
			return false, errors.New("logs answered without a kubelet on the host node")
		}
		msg := statusText(err) + "; body: " + string(body)
		last = msg
		return strings.Contains(msg, want), fmt.Errorf("want %q in: %s", want, msg)
	})
	t.Logf("virtual GetLogs answered: %s", last)
}

// requireNodePointsAtSyncer waits for the virtual node to advertise the syncer's kubelet API.
func requireNodePointsAtSyncer(t *testing.T, virtual kubernetes.Interface, name string, port int) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "virtual node "+name+" pointing at the syncer", func() (bool, error) {
		node, err := virtual.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		addrs, got := node.Status.Addresses, node.Status.DaemonEndpoints.KubeletEndpoint.Port
		ok := len(addrs) > 0 && addrs[0] == corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "127.0.0.1"} && int(got) == port
		return ok, fmt.Errorf("addresses %v, kubelet port %d, want InternalIP 127.0.0.1 and %d", addrs, got, port)
	})
}

// statusText is an API error's message with its causes, where the virtual API server puts
// the kubelet's answer.
func statusText(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return err.Error()
	}
	s := status.Status()
	text := fmt.Sprintf("%d %s: %s", s.Code, s.Reason, s.Message)
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			text += "; " + c.Message
		}
	}
	return text
}
