package pods_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/syncer/translate"
)

func TestUpdated(t *testing.T) {
	labels := map[string]string{"app": "web"}
	host := func() *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{
			Containers:     []corev1.Container{{Name: "app", Image: "web:1"}, {Name: "side", Image: "side:1"}},
			InitContainers: []corev1.Container{{Name: "init", Image: "init:1"}},
		}}
		p.Labels = map[string]string{"app": "web"}
		return p
	}
	for _, tc := range []struct {
		name    string
		virtual func(*corev1.Pod)
		labels  map[string]string
		want    func(*corev1.Pod) // nil: no update
	}{
		{name: "nothing changed", virtual: func(*corev1.Pod) {}, labels: labels},
		{name: "image", virtual: func(p *corev1.Pod) { p.Spec.Containers[1].Image = "side:2" }, labels: labels,
			want: func(p *corev1.Pod) { p.Spec.Containers[1].Image = "side:2" }},
		{name: "init image", virtual: func(p *corev1.Pod) { p.Spec.InitContainers[0].Image = "init:2" }, labels: labels,
			want: func(p *corev1.Pod) { p.Spec.InitContainers[0].Image = "init:2" }},
		{name: "deadline", virtual: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }, labels: labels,
			want: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }},
		{name: "labels", virtual: func(*corev1.Pod) {}, labels: map[string]string{"app": "api"},
			want: func(p *corev1.Pod) { p.Labels = map[string]string{"app": "api"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := host()
			tc.virtual(v)
			got := pods.Updated(v, host(), metav1.ObjectMeta{Labels: tc.labels})
			if tc.want == nil {
				if got != nil {
					t.Fatalf("update %+v, want none", got.Spec)
				}
				return
			}
			want := host()
			tc.want(want)
			if got == nil || got.Spec.Containers[1].Image != want.Spec.Containers[1].Image ||
				got.Spec.InitContainers[0].Image != want.Spec.InitContainers[0].Image ||
				!ptrEqual(got.Spec.ActiveDeadlineSeconds, want.Spec.ActiveDeadlineSeconds) || got.Labels["app"] != want.Labels["app"] {
				t.Fatalf("update %+v, want %+v", got, want)
			}
		})
	}
}

func ptrEqual(a, b *int64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

// TestUpdatedKeepsHostAnnotations: keys set on the host by others survive an update.
func TestUpdatedKeepsHostAnnotations(t *testing.T) {
	h := &corev1.Pod{}
	h.Annotations = map[string]string{"k8s.v1.cni.cncf.io/network-status": "[]", "team": "a",
		translate.AnnotationManagedAnnotations: "team"}
	got := pods.Updated(&corev1.Pod{}, h, metav1.ObjectMeta{Annotations: map[string]string{"team": "b", translate.AnnotationManagedAnnotations: "team"}})
	if got == nil || got.Annotations["team"] != "b" || got.Annotations["k8s.v1.cni.cncf.io/network-status"] != "[]" {
		t.Fatalf("annotations %v", got)
	}
}
