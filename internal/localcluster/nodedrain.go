package localcluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// drain cordons the node, force-deletes every pod bound to it and gives the kubelet a few seconds to
// stop their containers and sandboxes (no task RUNNING), so the CNI plugins release their
// addresses and caches.
func (n *node) drain(cfg *rest.Config) {
	if cfg == nil {
		return
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Cordon first: controllers recreate deleted pods, which must not land on the node.
	cordon := []byte(`{"spec":{"unschedulable":true}}`)
	if _, err := cs.CoreV1().Nodes().Patch(ctx, NodeName, types.StrategicMergePatchType, cordon, metav1.PatchOptions{}); err != nil {
		return
	}
	sel := fields.OneTermEqualSelector("spec.nodeName", NodeName).String()
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return
	}
	for _, p := range pods.Items {
		_ = cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	}
	for ctx.Err() == nil {
		if out, err := n.ctr(ctx, "tasks", "list"); err != nil || !strings.Contains(out, "RUNNING") {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// removeCNICache removes libcni's cached results for the node's containers, which a
// sandbox killed without a CNI DEL leaves in /var/lib/cni/results.
func removeCNICache(ids []string) {
	for _, id := range ids {
		files, _ := filepath.Glob("/var/lib/cni/results/*-" + id + "-*")
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
}
