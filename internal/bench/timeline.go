package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/api/wellknown"
)

// deployTimeline is where the echo Deployment's time went, per pod, from the API
// servers' own timestamps (whole seconds): the virtual pod created, its host pod created
// by the syncer, scheduled, its container started, and Ready on the host; each relative
// to the virtual Deployment's creation.
func deployTimeline(ctx context.Context, host, virtual kubernetes.Interface, ns, vcluster string) string {
	d, err := virtual.AppsV1().Deployments("default").Get(ctx, "echo", metav1.GetOptions{})
	if err != nil {
		return fmt.Sprintf("no timeline: %v", err)
	}
	pods, err := virtual.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=echo"})
	if err != nil {
		return fmt.Sprintf("no timeline: %v", err)
	}
	t0 := d.CreationTimestamp.Time
	var lines []string
	for _, v := range pods.Items {
		h, err := host.CoreV1().Pods(ns).Get(ctx, wellknown.HostName(v.Name, v.Namespace, vcluster), metav1.GetOptions{})
		if err != nil {
			lines = append(lines, fmt.Sprintf("%s: host pod: %v", v.Name, err))
			continue
		}
		lines = append(lines, fmt.Sprintf("virtual pod +%s, host pod +%s, scheduled +%s, container started +%s, Ready on host +%s",
			since(t0, v.CreationTimestamp.Time), since(t0, h.CreationTimestamp.Time), since(t0, conditionTime(h, corev1.PodScheduled)),
			since(t0, startedAt(h)), since(t0, conditionTime(h, corev1.PodReady))))
	}
	return strings.Join(lines, "; ")
}

func since(t0, t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return fmt.Sprintf("%.0fs", t.Sub(t0).Seconds())
}

func conditionTime(p *corev1.Pod, c corev1.PodConditionType) time.Time {
	for _, cond := range p.Status.Conditions {
		if cond.Type == c && cond.Status == corev1.ConditionTrue {
			return cond.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

func startedAt(p *corev1.Pod) time.Time {
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running != nil {
			return c.State.Running.StartedAt.Time
		}
	}
	return time.Time{}
}
