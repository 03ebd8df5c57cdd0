package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/standin"
)

const (
	// standinNode is the Node the kubelet stand-in plays on the real node's host.
	standinNode = "bench-standin"
	// standinTaint keeps everything but the load's pods, which tolerate it, off the
	// stand-in's Node.
	standinTaint = "tenantry.dev/bench-standin"
)

// standinHost readies the real node's host for a pod load, once the control planes run:
// its real Nodes cordoned (running pods stay), and a Node for the stand-in, kept Ready by
// its Lease and tainted so that the host scheduler binds only the load's pods there (they
// tolerate the taint; anything else stays unbound). The scheduler binds each load pod as
// on a real node, in one write; the stand-in then reports it Running. No container runs.
type standinHost struct {
	cs       kubernetes.Interface
	cordoned []string
	stop     context.CancelFunc
}

func startStandinHost(ctx context.Context, cs kubernetes.Interface, log io.Writer) (*standinHost, error) {
	s := &standinHost{cs: cs}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the host's nodes: %w", err)
	}
	for _, n := range nodes.Items {
		if err := s.cordon(ctx, n.Name, true); err != nil {
			return nil, errors.Join(err, s.close(ctx))
		}
		s.cordoned = append(s.cordoned, n.Name)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: standinNode},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: standinTaint, Effect: corev1.TaintEffectNoSchedule}}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return nil, errors.Join(fmt.Errorf("creating the stand-in's node: %w", err), s.close(ctx))
	}
	beat, stop := context.WithCancel(context.Background())
	s.stop = stop
	k := &standin.Kubelet{Client: cs, Node: standinNode}
	if err := k.ReportReady(beat, 10*time.Second, func(err error) { fmt.Fprintf(log, "bench: stand-in heartbeat: %v\n", err) }); err != nil {
		return nil, errors.Join(err, s.close(ctx))
	}
	return s, nil
}

// cordon marks a Node unschedulable (or schedulable again).
func (s *standinHost) cordon(ctx context.Context, name string, on bool) error {
	patch := fmt.Appendf(nil, `{"spec":{"unschedulable":%t}}`, on)
	if _, err := s.cs.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("cordoning node %s (%t): %w", name, on, err)
	}
	return nil
}

// finish force-deletes, as a kubelet confirms, the host pods of ns that are being deleted
// on the stand-in's Node, until none is left.
func (s *standinHost) finish(ctx context.Context, ns string) error {
	// Cleanup binds nothing: an unbound pod here is not the load's (vcluster's CoreDNS,
	// scheduled after the real node was cordoned), and once bound to the stand-in's Node
	// it would never leave it.
	leave := func(*corev1.Pod) bool { return true }
	k := &standin.Kubelet{Client: s.cs, Node: standinNode, Namespace: ns, Leave: leave}
	return pollFor(ctx, syncerWait, "the load's host pods in "+ns+" to go", func(ctx context.Context) (bool, error) {
		if err := k.Pass(ctx); err != nil {
			return false, err
		}
		list, err := s.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + standinNode})
		if err != nil {
			return false, err
		}
		return len(list.Items) == 0, fmt.Errorf("%d host pods left", len(list.Items))
	})
}

// close deletes the stand-in's Node (its Lease goes with it) and uncordons the real ones.
func (s *standinHost) close(ctx context.Context) error {
	if s.stop != nil {
		s.stop()
	}
	err := (&standin.Kubelet{Client: s.cs, Node: standinNode}).DeleteNode(ctx)
	for _, name := range s.cordoned {
		err = errors.Join(err, s.cordon(ctx, name, false))
	}
	return err
}
