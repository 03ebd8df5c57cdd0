package loader

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// checkTolerations checks spec.pods.tolerations: each names a key (an empty one would
// tolerate every taint, the control plane's too), and its parts are what the API accepts,
// so the host guard's encoding of them (guards.EncodeTolerations) is unambiguous.
func checkTolerations(c *collector, ts []corev1.Toleration, base string) {
	for i, t := range ts {
		p := index(base, i)
		if t.Key == "" {
			c.field(child(p, "key"), "required: a toleration without a key tolerates every taint, the control plane's too")
		} else {
			checkMessages(c, child(p, "key"), "invalid taint key", t.Key, validation.IsQualifiedName(t.Key))
		}
		checkEnum(c, child(p, "operator"), t.Operator, corev1.TolerationOpEqual, corev1.TolerationOpExists)
		checkEnum(c, child(p, "effect"), t.Effect, corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute)
		switch {
		case t.Operator == corev1.TolerationOpExists && t.Value != "":
			c.field(child(p, "value"), "must be empty when operator is Exists")
		case t.Value != "":
			checkMessages(c, child(p, "value"), "invalid taint value", t.Value, validation.IsValidLabelValue(t.Value))
		}
	}
}
