package pods

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/nodes"
	"github.com/tenantry/tenantry/syncer/synccontext"
)

// SyncFromHost binds the virtual pod to the host pod's node (making sure a virtual node
// of that name exists) and copies the host pod's status to the virtual pod.
func (Syncer) SyncFromHost(ctx context.Context, sc *synccontext.Context, hObj, vObj client.Object) error {
	hPod, vPod := hObj.(*corev1.Pod), vObj.(*corev1.Pod)
	if hPod.Spec.NodeName != "" && vPod.Spec.NodeName == "" {
		return bind(ctx, sc, vPod, hPod.Spec.NodeName)
	}
	status := virtualStatus(vPod, hPod)
	if equality.Semantic.DeepEqual(status, vPod.Status) {
		return nil
	}
	updated := vPod.DeepCopy()
	updated.Status = status
	if err := sc.Virtual.Status().Update(ctx, updated); err != nil {
		return fmt.Errorf("updating virtual pod status: %w", err)
	}
	return nil
}

func bind(ctx context.Context, sc *synccontext.Context, vPod *corev1.Pod, node string) error {
	if err := nodes.Ensure(ctx, sc, node); err != nil {
		return err
	}
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: vPod.Name, Namespace: vPod.Namespace, UID: vPod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := sc.VirtualClientset.CoreV1().Pods(vPod.Namespace).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("binding virtual pod to node %s: %w", node, err)
	}
	return nil
}

// virtualStatus is the host pod's status as the virtual pod should show it.
func virtualStatus(vPod, hPod *corev1.Pod) corev1.PodStatus {
	s := *vPod.Status.DeepCopy()
	h := hPod.Status.DeepCopy()
	s.Phase, s.Conditions, s.Message, s.Reason = h.Phase, h.Conditions, h.Message, h.Reason
	s.HostIP, s.HostIPs, s.PodIP, s.PodIPs = h.HostIP, h.HostIPs, h.PodIP, h.PodIPs
	s.StartTime = h.StartTime
	s.InitContainerStatuses, s.ContainerStatuses = h.InitContainerStatuses, h.ContainerStatuses
	s.EphemeralContainerStatuses = h.EphemeralContainerStatuses
	if len(s.Conditions) == 0 {
		s.Conditions = vPod.Status.Conditions
	}
	return s
}
