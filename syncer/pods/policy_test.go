package pods

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestCheck(t *testing.T) {
	privileged := &corev1.SecurityContext{Privileged: new(true)}
	hostPath := corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}
	tests := []struct {
		name   string
		spec   corev1.PodSpec
		policy v1alpha1.PodPolicy
		want   string
	}{
		{name: "plain pod", spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}},
		{name: "hostPath refused", spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "x"}, hostPath}},
			want: "spec.volumes[1].hostPath is not allowed: the tenant file does not set spec.pods.allowHostPath"},
		{name: "hostPath allowed", spec: corev1.PodSpec{Volumes: []corev1.Volume{hostPath}}, policy: v1alpha1.PodPolicy{AllowHostPath: true}},
		{name: "hostNetwork", spec: corev1.PodSpec{HostNetwork: true},
			want: "spec.hostNetwork is not allowed: the tenant file does not set spec.pods.allowHostNetwork"},
		{name: "hostPID", spec: corev1.PodSpec{HostPID: true},
			want: "spec.hostPID is not allowed: the tenant file does not set spec.pods.allowHostPID"},
		{name: "hostIPC always refused", spec: corev1.PodSpec{HostIPC: true}, policy: v1alpha1.PodPolicy{AllowHostPID: true},
			want: "spec.hostIPC is not allowed: no tenant-file setting allows it"},
		{name: "privileged init container", spec: corev1.PodSpec{InitContainers: []corev1.Container{{SecurityContext: privileged}}},
			want: "spec.initContainers[0].securityContext.privileged is not allowed: the tenant file does not set spec.pods.allowPrivileged"},
		{name: "privileged ephemeral container", spec: corev1.PodSpec{EphemeralContainers: []corev1.EphemeralContainer{
			{EphemeralContainerCommon: corev1.EphemeralContainerCommon{SecurityContext: privileged}}}},
			want: "spec.ephemeralContainers[0].securityContext.privileged is not allowed: the tenant file does not set spec.pods.allowPrivileged"},
		{name: "privileged allowed", spec: corev1.PodSpec{Containers: []corev1.Container{{SecurityContext: privileged}}},
			policy: v1alpha1.PodPolicy{AllowPrivileged: true}},
		{name: "two refusals", spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{SecurityContext: privileged}}},
			want: "spec.hostNetwork is not allowed: the tenant file does not set spec.pods.allowHostNetwork\n" +
				"spec.containers[0].securityContext.privileged is not allowed: the tenant file does not set spec.pods.allowPrivileged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(&corev1.Pod{Spec: tt.spec}, tt.policy)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Check = %q, want %q", got, tt.want)
			}
		})
	}
}
