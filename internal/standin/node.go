package standin

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeLeaseNamespace is where kubelets keep their heartbeat Leases.
const nodeLeaseNamespace = "kube-node-lease"

// nodeCapacity is what the stand-in's Node offers: room for any load, as no container runs.
var nodeCapacity = corev1.ResourceList{
	corev1.ResourcePods:   resource.MustParse("10000"),
	corev1.ResourceCPU:    resource.MustParse("1000"),
	corev1.ResourceMemory: resource.MustParse("4Ti"),
}

// setNodeReady writes the Node's status: Ready, its capacity, and its address. It returns
// the Node as written.
func (k *Kubelet) setNodeReady(ctx context.Context) (*corev1.Node, error) {
	nodes := k.Client.CoreV1().Nodes()
	for range 10 {
		n, err := nodes.Get(ctx, k.Node, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", k.Node, err)
		}
		now := metav1.Now()
		n.Status.Capacity, n.Status.Allocatable = nodeCapacity.DeepCopy(), nodeCapacity.DeepCopy()
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: k.hostIP()}}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}
		written, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err == nil {
			return written, nil
		}
		if !apierrors.IsConflict(err) {
			return nil, fmt.Errorf("node %s status: %w", k.Node, err)
		}
	}
	return nil, fmt.Errorf("node %s status: conflicts on every try", k.Node)
}

// renewLease creates or renews the Node's Lease, as the kubelet's heartbeat does; owned by
// the Node, it goes with it.
func (k *Kubelet) renewLease(ctx context.Context, node *corev1.Node, interval time.Duration) error {
	leases := k.Client.CoordinationV1().Leases(nodeLeaseNamespace)
	now := metav1.NewMicroTime(time.Now())
	seconds := int32(4 * interval / time.Second)
	l, err := leases.Get(ctx, k.Node, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: k.Node, Namespace: nodeLeaseNamespace, OwnerReferences: []metav1.OwnerReference{owner}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &k.Node, LeaseDurationSeconds: &seconds, RenewTime: &now}}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
	} else if err == nil {
		l.Spec.RenewTime, l.Spec.LeaseDurationSeconds = &now, &seconds
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("node %s lease: %w", k.Node, err)
	}
	return nil
}
