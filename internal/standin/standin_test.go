package standin

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// newFake is a fake clientset whose pods/binding creates set spec.nodeName, as the API
// server does, and which counts the writes.
func newFake(t *testing.T, pods ...*corev1.Pod) (*fake.Clientset, *int) {
	t.Helper()
	var objs []runtime.Object
	for _, p := range pods {
		objs = append(objs, p)
	}
	cs := fake.NewClientset(objs...)
	writes := 0
	cs.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := a.(k8stesting.CreateAction).GetObject().(*corev1.Binding)
		p, err := cs.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), a.GetNamespace(), b.Name)
		if err != nil {
			return true, nil, err
		}
		pod := p.(*corev1.Pod).DeepCopy()
		pod.Spec.NodeName = b.Target.Name
		return true, b, cs.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), pod, a.GetNamespace())
	})
	// Prepended last, so it sees every action first.
	cs.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetVerb() != "get" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			writes++
		}
		return false, nil, nil
	})
	return cs, &writes
}

func pod(name string, edit func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
	if edit != nil {
		edit(p)
	}
	return p
}

func get(t *testing.T, k *Kubelet, name string) *corev1.Pod {
	t.Helper()
	p, err := k.Client.CoreV1().Pods("ns").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPass moves each pod on by one step a pass: bind, then Running with an IP; a pod
// Leave names is never bound.
func TestPass(t *testing.T) {
	cs, _ := newFake(t, pod("web", nil), pod("synced", func(p *corev1.Pod) { p.Labels = map[string]string{"leave": "me"} }))
	k := &Kubelet{Client: cs, Node: "node-1", Namespace: "ns", Leave: func(p *corev1.Pod) bool { return p.Labels["leave"] != "" }}
	ctx := context.Background()
	if err := k.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	if p := get(t, k, "web"); p.Spec.NodeName != "node-1" || p.Status.Phase != "" {
		t.Fatalf("after one pass: node %q, phase %q; want bound, no status yet", p.Spec.NodeName, p.Status.Phase)
	}
	if err := k.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	p := get(t, k, "web")
	if p.Status.Phase != corev1.PodRunning || p.Status.HostIP != DefaultHostIP || !strings.HasPrefix(p.Status.PodIP, "10.244.") ||
		len(p.Status.ContainerStatuses) != 1 || !p.Status.ContainerStatuses[0].Ready {
		t.Fatalf("after two passes: %+v", p.Status)
	}
	if p.Status.PodIP != PodIP(p) {
		t.Fatalf("pod IP %s, want the stable %s", p.Status.PodIP, PodIP(p))
	}
	if s := get(t, k, "synced"); s.Spec.NodeName != "" {
		t.Fatalf("the pod Leave names was bound to %s", s.Spec.NodeName)
	}
}

// TestStartWrites: the bench's path binds and marks a pod Running in two calls, and only
// marks it Running when a scheduler has bound it to the Node already.
func TestStartWrites(t *testing.T) {
	for _, tc := range []struct {
		name, node string
		want       int
	}{
		{name: "unbound", want: 2},
		{name: "bound by a scheduler", node: "node-1", want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pod("web", nil)
			p.Spec.NodeName = tc.node
			cs, writes := newFake(t, p.DeepCopy())
			k := &Kubelet{Client: cs, Node: "node-1"}
			if err := k.Start(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if *writes != tc.want {
				t.Fatalf("%d writes, want %d", *writes, tc.want)
			}
			if p := get(t, k, "web"); p.Status.Phase != corev1.PodRunning || p.Spec.NodeName != "node-1" {
				t.Fatalf("phase %s on node %q", p.Status.Phase, p.Spec.NodeName)
			}
		})
	}
}

// TestSandboxThenRunning scripts one pod: Pending with the given IP, then Running with it.
func TestSandboxThenRunning(t *testing.T) {
	cs, _ := newFake(t, pod("cp-0", nil))
	k := &Kubelet{Client: cs, Node: "node-1"}
	ctx := context.Background()
	p, err := k.Sandbox(ctx, pod("cp-0", nil), "10.244.7.7")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodPending || p.Status.PodIP != "10.244.7.7" || p.Spec.NodeName != "node-1" {
		t.Fatalf("sandbox: phase %s, IP %s, node %q", p.Status.Phase, p.Status.PodIP, p.Spec.NodeName)
	}
	if p, err = k.Running(ctx, "ns", "cp-0"); err != nil {
		t.Fatal(err)
	}
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP != "10.244.7.7" || p.Status.HostIP != DefaultHostIP {
		t.Fatalf("running: phase %s, IP %s, host IP %s", p.Status.Phase, p.Status.PodIP, p.Status.HostIP)
	}
}

// TestPassFinishesDeletion removes a pod being deleted.
func TestPassFinishesDeletion(t *testing.T) {
	now := metav1.Now()
	cs, _ := newFake(t, pod("gone", func(p *corev1.Pod) { p.DeletionTimestamp = &now; p.Finalizers = nil }))
	k := &Kubelet{Client: cs, Node: "node-1", Namespace: "ns"}
	if err := k.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if list, _ := cs.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{}); len(list.Items) != 0 {
		t.Fatalf("pods left: %d", len(list.Items))
	}
}
