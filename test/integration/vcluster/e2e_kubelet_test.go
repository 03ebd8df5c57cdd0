package vcluster_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/internal/standin"
	"github.com/tenantry/tenantry/test/framework"
)

// kubelet is the stand-in kubelet of one host Node (internal/standin): there is none in
// the test bed, so the test takes each pod through a kubelet's steps itself.
type kubelet struct {
	t *testing.T
	*standin.Kubelet
}

// newKubelet creates the host Node, deleted when the test ends.
func newKubelet(t *testing.T, name string) *kubelet {
	t.Helper()
	k := &standin.Kubelet{Client: host.Clientset(t), Node: name}
	if err := k.CreateNode(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.DeleteNode(context.Background()) })
	return &kubelet{t: t, Kubelet: k}
}

// waitPod waits for a host pod to exist.
func (k *kubelet) waitPod(ns, name string, timeout time.Duration) *corev1.Pod {
	k.t.Helper()
	var pod *corev1.Pod
	framework.Eventually(k.t, timeout, "host pod "+ns+"/"+name, func() (bool, error) {
		p, err := k.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pod = p
		return true, nil
	})
	return pod
}

// start binds the pod to the node and reports its sandbox up with ip, containers not yet
// running: the status a container sees at start (status.podIP for the downward API).
func (k *kubelet) start(pod *corev1.Pod, ip string) *corev1.Pod {
	k.t.Helper()
	p, err := k.Sandbox(ctx, pod, ip)
	if err != nil {
		k.t.Fatal(err)
	}
	return p
}

// running reports the pod's containers running and ready.
func (k *kubelet) running(ns, name string) {
	k.t.Helper()
	if _, err := k.Running(ctx, ns, name); err != nil {
		k.t.Fatal(err)
	}
}
