// Package standin is a stand-in kubelet: it binds pods to a Node and reports them
// Running, with a pod IP, for the tests and the bench where no real node runs. It writes
// what a kubelet would write (a Binding, the pod status, the final delete) through the
// API, and nothing else: no container runs.
//
// Two ways to drive it: Start takes one pod the caller saw unbound (two API calls, for
// load at scale: the bench feeds it from a watch through Serve), and Pass and Run poll a
// namespace and move every pod on by one step (for tests that want the host to behave
// like a node without scripting each pod). Sandbox and Running script one pod's steps.
package standin

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultHostIP is the node address a Kubelet reports when HostIP is empty.
const DefaultHostIP = "10.0.0.1"

// Kubelet plays the kubelet of one Node.
type Kubelet struct {
	// Client writes the bindings and statuses.
	Client kubernetes.Interface
	// Node is the Node's name; CreateNode makes it, when the caller has not.
	Node string
	// Namespace is the namespace Pass and Run look after.
	Namespace string
	// HostIP is the node address in pod statuses; DefaultHostIP when empty.
	HostIP string
	// Leave, when set, names pods Pass never binds (it still finishes their deletion): a
	// test's pod that must stay unscheduled, so that deleting it takes no grace period.
	Leave func(*corev1.Pod) bool
}

// CreateNode creates the Node object.
func (k *Kubelet) CreateNode(ctx context.Context) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: k.Node}}
	if _, err := k.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating node %s: %w", k.Node, err)
	}
	return nil
}

// DeleteNode deletes the Node object; a Node already gone is no error.
func (k *Kubelet) DeleteNode(ctx context.Context) error {
	err := k.Client.CoreV1().Nodes().Delete(ctx, k.Node, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting node %s: %w", k.Node, err)
	}
	return nil
}

// Bind binds p to the Node, as the scheduler would (with p's UID as a precondition).
func (k *Kubelet) Bind(ctx context.Context, p *corev1.Pod) error {
	b := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
		Target: corev1.ObjectReference{Kind: "Node", Name: k.Node}}
	if err := k.Client.CoreV1().Pods(p.Namespace).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("binding pod %s: %w", p.Name, err)
	}
	return nil
}

// Start binds p, which the caller saw unbound (a pod a scheduler already bound to the Node
// is not bound again), and reports it Running and Ready with a pod IP: at most two API
// calls. The status write is unconditional (pods allow it; the bind moved the
// resourceVersion on), so p's other fields must be fresh: Pass, which works from a list,
// uses conditional writes instead.
func (k *Kubelet) Start(ctx context.Context, p *corev1.Pod) error {
	if p.Spec.NodeName != k.Node {
		if err := k.Bind(ctx, p); err != nil {
			return err
		}
	}
	r := p.DeepCopy()
	r.Spec.NodeName, r.ResourceVersion = k.Node, ""
	SetRunning(r, k.hostIP(), PodIP(p))
	if _, err := k.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, r, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("marking pod %s Running: %w", p.Name, err)
	}
	return nil
}

// Serve starts every pod received on pods (see Start), workers at a time, until ctx
// ends; started is called after each with Start's error.
func (k *Kubelet) Serve(ctx context.Context, pods <-chan *corev1.Pod, workers int, started func(*corev1.Pod, error)) {
	for range workers {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case p := <-pods:
					started(p, k.Start(ctx, p))
				}
			}
		}()
	}
}

// Sandbox binds p and reports its sandbox up with podIP and its containers not yet
// running (phase Pending): what a container sees at start, e.g. status.podIP through the
// downward API. It returns the pod as written.
func (k *Kubelet) Sandbox(ctx context.Context, p *corev1.Pod, podIP string) (*corev1.Pod, error) {
	if err := k.Bind(ctx, p); err != nil {
		return nil, err
	}
	return k.UpdateStatus(ctx, p.Namespace, p.Name, func(p *corev1.Pod) { SetPending(p, k.hostIP(), podIP) })
}

// Running reports the pod's containers running and ready, keeping the IPs its status
// has. It returns the pod as written.
func (k *Kubelet) Running(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	return k.UpdateStatus(ctx, ns, name, func(p *corev1.Pod) { SetRunning(p, "", "") })
}

// UpdateStatus reads the pod, applies change to it and writes its status, retrying on
// conflicts. It returns the pod as written.
func (k *Kubelet) UpdateStatus(ctx context.Context, ns, name string, change func(*corev1.Pod)) (*corev1.Pod, error) {
	pods := k.Client.CoreV1().Pods(ns)
	for range 10 {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("pod %s status: %w", name, err)
		}
		change(p)
		updated, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		if err == nil {
			return updated, nil
		}
		if !apierrors.IsConflict(err) {
			return nil, fmt.Errorf("pod %s status: %w", name, err)
		}
	}
	return nil, fmt.Errorf("pod %s status: conflicts on every try", name)
}

// Pass moves every pod of Namespace on by one step, as a node would: a pod being deleted
// is removed (grace period 0), an unbound pod is bound (unless Leave says otherwise), and
// a bound pod not yet Running is reported Running and Ready. Status writes are
// conditional on the listed resourceVersion; a pod that changed or went meanwhile is
// left to the next pass. It returns the other errors.
func (k *Kubelet) Pass(ctx context.Context) error {
	pods := k.Client.CoreV1().Pods(k.Namespace)
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing pods of %s: %w", k.Namespace, err)
	}
	var errs []error
	for i := range list.Items {
		p := &list.Items[i]
		switch {
		case p.DeletionTimestamp != nil:
			zero := int64(0)
			err = pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		case p.Spec.NodeName == "" && (k.Leave == nil || !k.Leave(p)):
			err = k.Bind(ctx, p)
		case p.Spec.NodeName != "" && p.Status.Phase != corev1.PodRunning:
			SetRunning(p, k.hostIP(), PodIP(p))
			_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		default:
			continue
		}
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("pod %s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Run runs Pass every interval until ctx ends, handing its errors to onError (when set).
func (k *Kubelet) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	for ctx.Err() == nil {
		if err := k.Pass(ctx); err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
}

func (k *Kubelet) hostIP() string {
	if k.HostIP == "" {
		return DefaultHostIP
	}
	return k.HostIP
}

// PodIP is the IP the stand-in gives p: an address in 10.244.0.0/16 taken from a hash of
// p's UID (of its name when it has none), stable across passes.
func PodIP(p *corev1.Pod) string {
	key := string(p.UID)
	if key == "" {
		key = p.Namespace + "/" + p.Name
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	sum := h.Sum32()
	return fmt.Sprintf("10.244.%d.%d", sum>>8%256, sum%250+2)
}

// ReportReady writes the Node's status as a kubelet does when it starts (Ready, with room
// for pods), then renews the Node's Lease every interval until ctx ends, so the node
// lifecycle controller of a host that has one keeps the Node Ready. It returns once the
// status and the first Lease are written; renewal errors go to onError (when set).
func (k *Kubelet) ReportReady(ctx context.Context, interval time.Duration, onError func(error)) error {
	node, err := k.setNodeReady(ctx)
	if err != nil {
		return err
	}
	if err := k.renewLease(ctx, node, interval); err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(interval):
			}
			if err := k.renewLease(ctx, node, interval); err != nil && ctx.Err() == nil && onError != nil {
				onError(err)
			}
		}
	}()
	return nil
}
