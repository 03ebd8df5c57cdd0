package pods_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
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
	gpu := corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpEqual, Value: "a100", Effect: corev1.TaintEffectNoSchedule}
	policyToleration := corev1.Toleration{Key: "tenants", Operator: corev1.TolerationOpExists}
	// The tenant file lists the gpu key; a control-plane toleration it does not list.
	policy := v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists}, policyToleration}}
	controlPlane := corev1.Toleration{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	deadline := func(s int64) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = &s } }
	tolerate := func(ts ...corev1.Toleration) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Tolerations = ts }
	}
	for _, tc := range []struct {
		name    string
		host    func(*corev1.Pod) // the host pod before the update, if not host()
		virtual func(*corev1.Pod)
		labels  map[string]string
		want    func(*corev1.Pod) // nil: no update
	}{
		{name: "nothing changed", virtual: func(*corev1.Pod) {}, labels: labels},
		{name: "image", virtual: func(p *corev1.Pod) { p.Spec.Containers[1].Image = "side:2" }, labels: labels,
			want: func(p *corev1.Pod) { p.Spec.Containers[1].Image = "side:2" }},
		{name: "init image", virtual: func(p *corev1.Pod) { p.Spec.InitContainers[0].Image = "init:2" }, labels: labels,
			want: func(p *corev1.Pod) { p.Spec.InitContainers[0].Image = "init:2" }},
		{name: "deadline set", virtual: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }, labels: labels,
			want: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }},
		{name: "deadline shortened", host: deadline(60), virtual: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) },
			labels: labels, want: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](30) }},
		{name: "deadline never lengthened", host: deadline(60), virtual: func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](90) },
			labels: labels},
		{name: "deadline never removed", host: deadline(60), virtual: func(*corev1.Pod) {}, labels: labels},
		{name: "toleration added; the host's stay", host: tolerate(policyToleration),
			virtual: func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{gpu} }, labels: labels,
			want: func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{policyToleration, gpu} }},
		{name: "toleration already on the host", host: tolerate(gpu, policyToleration),
			virtual: func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{gpu} }, labels: labels},
		{name: "toleration removed in the virtual pod stays", host: tolerate(gpu), virtual: func(*corev1.Pod) {}, labels: labels},
		{name: "toleration the tenant file does not list is not added", host: tolerate(policyToleration),
			virtual: func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{controlPlane} }, labels: labels},
		{name: "only the listed one of two is added", host: tolerate(policyToleration),
			virtual: func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{controlPlane, gpu} }, labels: labels,
			want: func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{policyToleration, gpu} }},
		{name: "labels", virtual: func(*corev1.Pod) {}, labels: map[string]string{"app": "api"},
			want: func(p *corev1.Pod) { p.Labels = map[string]string{"app": "api"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := func() *corev1.Pod {
				p := host()
				if tc.host != nil {
					tc.host(p)
				}
				return p
			}
			v := host()
			tc.virtual(v)
			got := pods.Updated(v, before(), metav1.ObjectMeta{Labels: tc.labels}, policy)
			if tc.want == nil {
				if got != nil {
					t.Fatalf("update %+v, want none", got.Spec)
				}
				return
			}
			want := before()
			tc.want(want)
			if got == nil || !apiequality.Semantic.DeepEqual(got.Spec, want.Spec) || got.Labels["app"] != want.Labels["app"] {
				t.Fatalf("update %+v, want %+v", got, want)
			}
		})
	}
}

// TestUpdatedKeepsHostAnnotations: keys set on the host by others survive an update.
func TestUpdatedKeepsHostAnnotations(t *testing.T) {
	h := &corev1.Pod{}
	h.Annotations = map[string]string{"k8s.v1.cni.cncf.io/network-status": "[]", "team": "a",
		translate.AnnotationManagedAnnotations: "team"}
	got := pods.Updated(&corev1.Pod{}, h, metav1.ObjectMeta{Annotations: map[string]string{"team": "b", translate.AnnotationManagedAnnotations: "team"}}, v1alpha1.PodPolicy{})
	if got == nil || got.Annotations["team"] != "b" || got.Annotations["k8s.v1.cni.cncf.io/network-status"] != "[]" {
		t.Fatalf("annotations %v", got)
	}
}
