package apply

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodBlocker: the first reason a pod gives for not running is what a person needs.
func TestPodBlocker(t *testing.T) {
	pod := func(st corev1.PodStatus) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "vc-a-0"}, Status: st}
	}
	waiting := func(reason, msg string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: "vcluster", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}}
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"unschedulable", pod(corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: "Unschedulable", Message: "0/1 nodes are available: 1 Insufficient cpu."}}}),
			"pod vc-a-0: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."},
		{"image pull", pod(corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{waiting("ErrImagePull", "not found")}}),
			"pod vc-a-0: container vcluster: ErrImagePull: not found"},
		{"crash loop", pod(corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "vcluster",
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}}}}),
			"pod vc-a-0: container vcluster: CrashLoopBackOff: back-off 10s"},
		{"still creating", pod(corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{waiting("ContainerCreating", "")}}), ""},
		{"running", pod(corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "vcluster", Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podBlocker(tt.pod); got != tt.want {
				t.Errorf("podBlocker = %q, want %q", got, tt.want)
			}
		})
	}
}
