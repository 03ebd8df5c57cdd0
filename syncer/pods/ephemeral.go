package pods

import (
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/tenantry/tenantry/syncer/translate"
)

// EphemeralToHost returns the host form of the virtual pod's ephemeral containers that
// the host pod does not have yet (kubectl debug adds them; none is ever changed or
// removed). Each is built from the allow-list under the pod policy, like any container,
// and may target only a container of the pod. A refused one is left out: the
// *translate.RefusedError returned with the others names its refused fields.
func EphemeralToHost(vPod, hPod *corev1.Pod, o Options) ([]corev1.EphemeralContainer, error) {
	var out []corev1.EphemeralContainer
	var refused translate.Refusals
	for i := range vPod.Spec.EphemeralContainers {
		v := &vPod.Spec.EphemeralContainers[i]
		if hasEphemeral(hPod, v.Name) {
			continue
		}
		if o.DisableChecks {
			out = append(out, *v.DeepCopy())
			continue
		}
		var r translate.Refusals
		b := specBuilder{t: o.Translator, policy: o.Pods, vns: vPod.Namespace, refused: &r}
		c := b.ephemeralContainer("spec.ephemeralContainers["+strconv.Itoa(i)+"]", vPod, v)
		if len(r) > 0 {
			refused = append(refused, r...)
			continue
		}
		out = append(out, c)
	}
	spec := corev1.PodSpec{EphemeralContainers: out}
	VisitRefs(&spec, func(_ RefKind, name *string) { *name = o.Name(*name, vPod.Namespace) })
	for i := range out {
		rewriteContainer((*corev1.Container)(&out[i].EphemeralContainerCommon), o)
	}
	return out, refused.Err()
}

// ephemeralContainer builds one ephemeral container exactly as a container (the API
// keeps the two types field for field alike) and checks its target.
func (b *specBuilder) ephemeralContainer(path string, vPod *corev1.Pod, v *corev1.EphemeralContainer) corev1.EphemeralContainer {
	c := corev1.Container(v.EphemeralContainerCommon)
	out := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon(b.container(path, &c))}
	if t := v.TargetContainerName; t != "" {
		if !slices.Contains(containerNames(vPod), t) {
			b.refuse(path+".targetContainerName", "container "+t+" is not a container of the pod")
		}
		out.TargetContainerName = t
	}
	return out
}

// containerNames lists the names of a pod's containers and init containers.
func containerNames(pod *corev1.Pod) []string {
	var out []string
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			out = append(out, c.Name)
		}
	}
	return out
}

func hasEphemeral(pod *corev1.Pod, name string) bool {
	return slices.ContainsFunc(pod.Spec.EphemeralContainers, func(c corev1.EphemeralContainer) bool { return c.Name == name })
}
