package pods

import (
	corev1 "k8s.io/api/core/v1"
)

// Resized returns the host pod with the container resources the virtual pod sets (a
// resize through the virtual pods/resize), or nil when the host pod already has them.
// Only the values the virtual pod names are taken: defaults the host's LimitRange added
// stay. Regular containers and sidecars (restartable init containers) are resized, as
// the API allows.
func Resized(vPod, hPod *corev1.Pod) *corev1.Pod {
	updated := hPod.DeepCopy()
	changed := copyResources(updated.Spec.Containers, vPod.Spec.Containers)
	for i := range updated.Spec.InitContainers {
		h := &updated.Spec.InitContainers[i]
		if h.RestartPolicy != nil && *h.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			changed = copyResources(updated.Spec.InitContainers[i:i+1], vPod.Spec.InitContainers) || changed
		}
	}
	if !changed {
		return nil
	}
	return updated
}

// copyResources sets the requests and limits each host container's virtual namesake
// names, reporting whether any differed.
func copyResources(host, virtual []corev1.Container) bool {
	changed := false
	for i := range host {
		for _, v := range virtual {
			if v.Name != host[i].Name {
				continue
			}
			r := &host[i].Resources
			r.Requests, changed = mergeQuantities(r.Requests, v.Resources.Requests, changed)
			r.Limits, changed = mergeQuantities(r.Limits, v.Resources.Limits, changed)
		}
	}
	return changed
}

// mergeQuantities sets in host every quantity want names; changed becomes true when one differed.
func mergeQuantities(host, want corev1.ResourceList, changed bool) (corev1.ResourceList, bool) {
	for name, q := range want {
		if h, ok := host[name]; ok && h.Cmp(q) == 0 {
			continue
		}
		if host == nil {
			host = corev1.ResourceList{}
		}
		host[name] = q.DeepCopy()
		changed = true
	}
	return host, changed
}
