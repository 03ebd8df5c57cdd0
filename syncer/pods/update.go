package pods

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Updated returns the host pod with what the API lets a pod update change taken from the
// virtual pod: the labels and annotations the syncer owns (want is their translation;
// keys others set on the host stay), container images, a set or shortened
// activeDeadlineSeconds and added tolerations that policy allows (TolerationAllowed; the
// others are left out, as a new pod with them is refused); nil when nothing differs.
func Updated(vPod, hPod *corev1.Pod, want metav1.ObjectMeta, policy v1alpha1.PodPolicy) *corev1.Pod {
	updated := hPod.DeepCopy()
	translate.MergeMeta(&updated.ObjectMeta, want)
	copyImages(updated.Spec.Containers, vPod.Spec.Containers)
	copyImages(updated.Spec.InitContainers, vPod.Spec.InitContainers)
	updated.Spec.ActiveDeadlineSeconds = deadline(vPod.Spec.ActiveDeadlineSeconds, hPod.Spec.ActiveDeadlineSeconds)
	updated.Spec.Tolerations = addTolerations(updated.Spec.Tolerations, allowedTolerations(policy, vPod.Spec.Tolerations))
	if apiequality.Semantic.DeepEqual(updated, hPod) {
		return nil
	}
	return updated
}

// copyImages sets each host container's image to its virtual namesake's.
func copyImages(host, virtual []corev1.Container) {
	for i := range host {
		for _, v := range virtual {
			if v.Name == host[i].Name {
				host[i].Image = v.Image
			}
		}
	}
}

// deadline is the host's activeDeadlineSeconds after an update: the API lets it be set
// or shortened, never lengthened or removed, so only a shorter virtual one is taken.
func deadline(virtual, host *int64) *int64 {
	if virtual != nil && (host == nil || *virtual < *host) {
		return cp(virtual)
	}
	return cp(host)
}

// addTolerations appends the wanted tolerations the host pod lacks. The API allows only
// additions; the host's own (the pod policy's, the host admission's) stay.
func addTolerations(host, want []corev1.Toleration) []corev1.Toleration {
	for _, t := range want {
		if !slices.ContainsFunc(host, func(h corev1.Toleration) bool { return apiequality.Semantic.DeepEqual(h, t) }) {
			host = append(host, t)
		}
	}
	return host
}
