package bench

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// podDiagnosis describes the pods of ns for an error: phase, each container's state and
// the last lines of its log.
func podDiagnosis(ctx context.Context, cs kubernetes.Interface, ns string) string {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("listing pods of %s: %v", ns, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d pods in %s", len(pods.Items), ns)
	for _, p := range pods.Items {
		fmt.Fprintf(&b, "\npod %s: %s %s", p.Name, p.Status.Phase, p.Status.Message)
		for _, c := range p.Status.Conditions {
			fmt.Fprintf(&b, "\n  condition %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
		}
		statuses := append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
		for _, c := range statuses {
			fmt.Fprintf(&b, "\n  container %s: ready %v, restarts %d, state %+v, last %+v", c.Name, c.Ready, c.RestartCount, c.State, c.LastTerminationState)
			tail := int64(60)
			raw, err := cs.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: c.Name, TailLines: &tail}).DoRaw(ctx)
			fmt.Fprintf(&b, "\n  log (err %v):\n%s", err, raw)
		}
	}
	if events, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, e := range events.Items {
			fmt.Fprintf(&b, "\nevent %s/%s: %s %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
		}
	}
	return b.String()
}

// podStates is one line of the pods of ns: name, phase and any container's waiting reason
// (so the log shows, e.g., a CoreDNS pod that cannot pull its image).
func podStates(ctx context.Context, cs kubernetes.Interface, ns string) string {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Sprintf("listing pods of %s: %v", ns, err)
	}
	var states []string
	for _, p := range pods.Items {
		state := string(p.Status.Phase)
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Waiting != nil {
				state += " " + c.Name + ":" + c.State.Waiting.Reason
			}
		}
		states = append(states, p.Name+" "+state)
	}
	return strings.Join(states, ", ")
}
