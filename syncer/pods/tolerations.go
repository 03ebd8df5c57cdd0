package pods

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// ConditionTaints are the taints Kubernetes itself puts on nodes for their conditions
// (and a cordon); the pods host guard (policy/guards) lists the same, and a test there
// keeps the two lists equal. The API server's DefaultTolerationSeconds adds two of them to every pod
// and the DaemonSet controller the rest to its pods; tolerating them lets a pod stay on, or
// reach, a node in that condition, never a node the platform reserved with its own taint.
var ConditionTaints = []string{
	corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeUnschedulable,
	corev1.TaintNodeMemoryPressure, corev1.TaintNodeDiskPressure, corev1.TaintNodePIDPressure,
	corev1.TaintNodeNetworkUnavailable,
}

// notTolerable is the reason a virtual pod's toleration is refused.
const notTolerable = "a pod may tolerate only node-condition taints (node.kubernetes.io/...) and what the " +
	"tenant file's spec.pods.tolerations tolerate: a taint is how the platform keeps tenants off a node"

// TolerationAllowed reports whether a tenant's pod may carry t: t tolerates a
// node-condition taint, or no more than one of the tenant file's tolerations does (the
// same key; the same value unless that one is Exists; the same effect unless that one has
// none). An empty key (every taint) is never allowed.
func TolerationAllowed(p v1alpha1.PodPolicy, t corev1.Toleration) bool {
	if t.Key == "" {
		return false
	}
	return slices.Contains(ConditionTaints, t.Key) || slices.ContainsFunc(p.Tolerations, func(g corev1.Toleration) bool { return covers(g, t) })
}

// covers reports whether every taint t tolerates, g tolerates too.
func covers(g, t corev1.Toleration) bool {
	if g.Key != t.Key || (g.Effect != "" && g.Effect != t.Effect) {
		return false
	}
	return g.Operator == corev1.TolerationOpExists || (t.Operator != corev1.TolerationOpExists && g.Value == t.Value)
}

// tolerations copies the virtual pod's tolerations, refusing each the policy does not allow.
func (b *specBuilder) tolerations(in []corev1.Toleration) []corev1.Toleration {
	for i, t := range in {
		if !TolerationAllowed(b.policy, t) {
			b.refuse(fmt.Sprintf("spec.tolerations[%d]", i), notTolerable)
		}
	}
	return tolerations(in)
}

// allowedTolerations are the copies of in's tolerations that p allows.
func allowedTolerations(p v1alpha1.PodPolicy, in []corev1.Toleration) []corev1.Toleration {
	return tolerations(slices.DeleteFunc(slices.Clone(in), func(t corev1.Toleration) bool { return !TolerationAllowed(p, t) }))
}
