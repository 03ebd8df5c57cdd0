package standin

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SetRunning writes into p the status a kubelet reports once its containers run and are
// ready: phase Running, a start time, PodScheduled, Initialized, ContainersReady and Ready
// True (replacing earlier conditions of those types), one running, ready status per
// container and, when given, the host and pod IPs (empty ones keep what p has).
func SetRunning(p *corev1.Pod, hostIP, podIP string) {
	now := metav1.Now()
	p.Status.Phase, p.Status.StartTime = corev1.PodRunning, &now
	setIPs(p, hostIP, podIP)
	for _, typ := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		p.Status.Conditions = setCondition(p.Status.Conditions, corev1.PodCondition{Type: typ, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		started := true
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image + "@sha256:0", Ready: true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
}

// SetPending writes into p the status of a pod whose sandbox is up and whose containers
// do not run yet: phase Pending, a start time, PodScheduled True (the only condition) and
// the host and pod IPs.
func SetPending(p *corev1.Pod, hostIP, podIP string) {
	now := metav1.Now()
	p.Status.Phase, p.Status.StartTime = corev1.PodPending, &now
	setIPs(p, hostIP, podIP)
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now}}
}

func setIPs(p *corev1.Pod, hostIP, podIP string) {
	if hostIP != "" {
		p.Status.HostIP, p.Status.HostIPs = hostIP, []corev1.HostIP{{IP: hostIP}}
	}
	if podIP != "" {
		p.Status.PodIP, p.Status.PodIPs = podIP, []corev1.PodIP{{IP: podIP}}
	}
}

func setCondition(conds []corev1.PodCondition, c corev1.PodCondition) []corev1.PodCondition {
	for i := range conds {
		if conds[i].Type == c.Type {
			conds[i] = c
			return conds
		}
	}
	return append(conds, c)
}
