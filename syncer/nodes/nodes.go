// Package nodes keeps virtual nodes for the host nodes that run a tenant's pods.
package nodes

import (
	"context"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/kubeletapi"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Ensure makes sure a virtual node named like the host node exists, copied from the host
// node when the syncer may read it, with made-up capacity otherwise.
func Ensure(ctx context.Context, sc *synccontext.Context, name string) error {
	var existing corev1.Node
	err := sc.Virtual.Get(ctx, client.ObjectKey{Name: name}, &existing)
	if err == nil {
		return repoint(ctx, sc, &existing)
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading virtual node %s: %w", name, err)
	}
	node := Virtual(ctx, sc, name)
	if err := sc.Virtual.Create(ctx, node); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating virtual node %s: %w", name, err)
	}
	return nil
}

// Virtual is the virtual node for the host node name.
func Virtual(ctx context.Context, sc *synccontext.Context, name string) *corev1.Node {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		translate.LabelManagedBy: sc.VCluster, corev1.LabelHostname: name,
	}}}
	var host corev1.Node
	if err := sc.HostReader.Get(ctx, client.ObjectKey{Name: name}, &host); err == nil {
		maps.Copy(node.Labels, host.Labels)
		node.Labels[translate.LabelManagedBy] = sc.VCluster
		node.Status.Addresses = host.Status.Addresses
		node.Status.Capacity, node.Status.Allocatable = host.Status.Capacity, host.Status.Allocatable
		node.Status.NodeInfo = host.Status.NodeInfo
	} else {
		node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}}
		node.Status.Capacity = fakeCapacity()
		node.Status.Allocatable = fakeCapacity()
	}
	PointAtSyncer(&node.Status, sc.KubeletPort)
	now := metav1.NewTime(time.Now())
	node.Status.Conditions = []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "TenantryPseudoNode",
		Message: "runs pods of the virtual cluster on the host", LastHeartbeatTime: now, LastTransitionTime: now,
	}}
	return node
}

// PointAtSyncer makes the virtual API server reach the node's "kubelet" at the syncer's
// kubelet API: InternalIP 127.0.0.1 (host names kept, other addresses dropped) and port.
func PointAtSyncer(status *corev1.NodeStatus, port int) {
	addrs := []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: kubeletapi.Address}}
	for _, a := range status.Addresses {
		if a.Type == corev1.NodeHostName {
			addrs = append(addrs, a)
		}
	}
	status.Addresses = addrs
	status.DaemonEndpoints = corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(port)}}
}

// repoint updates a pseudo node created before it pointed at the syncer (or at another port).
func repoint(ctx context.Context, sc *synccontext.Context, node *corev1.Node) error {
	if node.Labels[translate.LabelManagedBy] != sc.VCluster || sc.Sync.Nodes.Enabled {
		return nil
	}
	want := node.DeepCopy()
	PointAtSyncer(&want.Status, sc.KubeletPort)
	if equality.Semantic.DeepEqual(want.Status, node.Status) {
		return nil
	}
	if err := sc.Virtual.Status().Update(ctx, want); err != nil {
		return fmt.Errorf("pointing virtual node %s at the syncer: %w", node.Name, err)
	}
	return nil
}

func fakeCapacity() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("16"), corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
}
