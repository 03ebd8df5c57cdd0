package pods_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/tenantry/tenantry/syncer/pods"
)

func TestResized(t *testing.T) {
	rl := func(kv ...string) corev1.ResourceList {
		out := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return out
	}
	always := corev1.ContainerRestartPolicyAlways
	pod := func(app, sidecar, init corev1.ResourceRequirements) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Resources: app}},
			InitContainers: []corev1.Container{{Name: "sidecar", RestartPolicy: &always, Resources: sidecar},
				{Name: "init", Resources: init}},
		}}
	}
	small := corev1.ResourceRequirements{Requests: rl("cpu", "100m"), Limits: rl("cpu", "200m")}
	big := corev1.ResourceRequirements{Requests: rl("cpu", "300m"), Limits: rl("cpu", "400m")}
	none := corev1.ResourceRequirements{}
	for _, tc := range []struct {
		name          string
		virtual, host *corev1.Pod
		want          *corev1.Pod // nil: no resize
	}{
		{name: "same", virtual: pod(small, small, small), host: pod(small, small, small)},
		{name: "same quantity, other spelling", virtual: pod(corev1.ResourceRequirements{Requests: rl("cpu", "0.1")}, none, none),
			host: pod(small, none, none)},
		{name: "container resized", virtual: pod(big, small, small), host: pod(small, small, small), want: pod(big, small, small)},
		{name: "sidecar resized", virtual: pod(small, big, small), host: pod(small, small, small), want: pod(small, big, small)},
		{name: "init container never", virtual: pod(small, small, big), host: pod(small, small, small)},
		{name: "the host's LimitRange defaults stay", virtual: pod(corev1.ResourceRequirements{Requests: rl("cpu", "300m")}, none, none),
			host: pod(corev1.ResourceRequirements{Requests: rl("cpu", "100m", "memory", "64Mi"), Limits: rl("memory", "128Mi")}, none, none),
			want: pod(corev1.ResourceRequirements{Requests: rl("cpu", "300m", "memory", "64Mi"), Limits: rl("memory", "128Mi")}, none, none)},
		{name: "memory added", virtual: pod(corev1.ResourceRequirements{Requests: rl("cpu", "100m", "memory", "64Mi"), Limits: rl("cpu", "200m")}, none, none),
			host: pod(small, none, none),
			want: pod(corev1.ResourceRequirements{Requests: rl("cpu", "100m", "memory", "64Mi"), Limits: rl("cpu", "200m")}, none, none)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pods.Resized(tc.virtual, tc.host)
			if tc.want == nil {
				if got != nil {
					t.Fatalf("resize to %+v, want none", got.Spec)
				}
				return
			}
			if got == nil || !apiequality.Semantic.DeepEqual(got.Spec, tc.want.Spec) {
				t.Fatalf("resize to %+v, want %+v", got, tc.want.Spec)
			}
		})
	}
}
