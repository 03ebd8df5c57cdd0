package vcluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/test/cluster"
)

// kubelet plays the kubelet of one host Node: there is none in the test bed, so the test
// binds pods to its Node and writes their status as a kubelet would.
type kubelet struct {
	t    *testing.T
	cs   kubernetes.Interface
	node string
}

// newKubelet creates the host Node, deleted when the test ends.
func newKubelet(t *testing.T, name string) *kubelet {
	t.Helper()
	cs := host.Clientset(t)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	return &kubelet{t: t, cs: cs, node: name}
}

// waitPod waits for a host pod to exist.
func (k *kubelet) waitPod(ns, name string, timeout time.Duration) *corev1.Pod {
	k.t.Helper()
	var pod *corev1.Pod
	cluster.Eventually(k.t, timeout, "host pod "+ns+"/"+name, func() (bool, error) {
		p, err := k.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pod = p
		return true, nil
	})
	return pod
}

// start binds the pod to the node and reports its sandbox up with an IP, containers not
// yet running: the status a container sees at start (status.podIP for the downward API).
func (k *kubelet) start(pod *corev1.Pod, ip string) *corev1.Pod {
	k.t.Helper()
	err := k.cs.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: k.node},
	}, metav1.CreateOptions{})
	if err != nil {
		k.t.Fatalf("binding %s: %v", pod.Name, err)
	}
	return k.writeStatus(pod.Namespace, pod.Name, func(p *corev1.Pod) {
		now := metav1.Now()
		p.Status.Phase = corev1.PodPending
		p.Status.HostIP, p.Status.PodIP = "10.0.0.1", ip
		p.Status.HostIPs, p.Status.PodIPs = []corev1.HostIP{{IP: "10.0.0.1"}}, []corev1.PodIP{{IP: ip}}
		p.Status.StartTime = &now
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now}}
	})
}

// running reports the pod's containers running and ready.
func (k *kubelet) running(ns, name string) {
	k.t.Helper()
	k.writeStatus(ns, name, func(p *corev1.Pod) { cluster.SetRunning(p, "", "") })
}

// writeStatus reads the pod, changes its status and writes it, retrying on conflicts.
func (k *kubelet) writeStatus(ns, name string, change func(*corev1.Pod)) *corev1.Pod {
	k.t.Helper()
	for range 10 {
		p, err := k.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			k.t.Fatal(err)
		}
		change(p)
		updated, err := k.cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if err == nil {
			return updated
		}
		if !apierrors.IsConflict(err) {
			k.t.Fatalf("pod %s status: %v", name, err)
		}
	}
	k.t.Fatal(fmt.Errorf("pod %s status: conflicts on every try", name))
	return nil
}
