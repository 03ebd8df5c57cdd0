package localcluster

import (
	corev1 "k8s.io/api/core/v1"
)

// PodReady reports whether p's Ready condition is True.
func PodReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// RunningReady counts the pods that are Running and Ready.
func RunningReady(pods []corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning && PodReady(p) {
			n++
		}
	}
	return n
}
