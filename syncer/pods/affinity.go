package pods

import (
	corev1 "k8s.io/api/core/v1"
)

// affinity copies node affinity as it is (the tenant file's node selector still wins) and
// pod (anti-)affinity with label selectors narrowed to this vcluster's pods of the
// pod's virtual namespace; terms naming other namespaces are refused.
func (b *specBuilder) affinity(v *corev1.Affinity) *corev1.Affinity {
	if v == nil {
		return nil
	}
	a := &corev1.Affinity{NodeAffinity: nodeAffinity(v.NodeAffinity)}
	if p := v.PodAffinity; p != nil {
		a.PodAffinity = &corev1.PodAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution:  b.terms("spec.affinity.podAffinity", p.RequiredDuringSchedulingIgnoredDuringExecution),
			PreferredDuringSchedulingIgnoredDuringExecution: b.weighted("spec.affinity.podAffinity", p.PreferredDuringSchedulingIgnoredDuringExecution),
		}
	}
	if p := v.PodAntiAffinity; p != nil {
		a.PodAntiAffinity = &corev1.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution:  b.terms("spec.affinity.podAntiAffinity", p.RequiredDuringSchedulingIgnoredDuringExecution),
			PreferredDuringSchedulingIgnoredDuringExecution: b.weighted("spec.affinity.podAntiAffinity", p.PreferredDuringSchedulingIgnoredDuringExecution),
		}
	}
	return a
}

func (b *specBuilder) terms(path string, in []corev1.PodAffinityTerm) []corev1.PodAffinityTerm {
	return convert(in, func(t corev1.PodAffinityTerm) corev1.PodAffinityTerm { return b.term(path, t) })
}

func (b *specBuilder) weighted(path string, in []corev1.WeightedPodAffinityTerm) []corev1.WeightedPodAffinityTerm {
	return convert(in, func(w corev1.WeightedPodAffinityTerm) corev1.WeightedPodAffinityTerm {
		return corev1.WeightedPodAffinityTerm{Weight: w.Weight, PodAffinityTerm: b.term(path, w.PodAffinityTerm)}
	})
}

func (b *specBuilder) term(path string, t corev1.PodAffinityTerm) corev1.PodAffinityTerm {
	if len(t.Namespaces) > 0 || t.NamespaceSelector != nil {
		b.refuse(path+".namespaces", "pod affinity to other namespaces is not supported")
	}
	return corev1.PodAffinityTerm{LabelSelector: b.t.LabelSelector(labelSelector(t.LabelSelector), b.vns), TopologyKey: t.TopologyKey,
		MatchLabelKeys: clone(t.MatchLabelKeys), MismatchLabelKeys: clone(t.MismatchLabelKeys)}
}

// spread copies topology spread constraints with narrowed label selectors.
func (b *specBuilder) spread(in []corev1.TopologySpreadConstraint) []corev1.TopologySpreadConstraint {
	return convert(in, func(c corev1.TopologySpreadConstraint) corev1.TopologySpreadConstraint {
		return corev1.TopologySpreadConstraint{MaxSkew: c.MaxSkew, TopologyKey: c.TopologyKey, WhenUnsatisfiable: c.WhenUnsatisfiable,
			LabelSelector: b.t.LabelSelector(labelSelector(c.LabelSelector), b.vns), MinDomains: cp(c.MinDomains),
			NodeAffinityPolicy: cp(c.NodeAffinityPolicy), NodeTaintsPolicy: cp(c.NodeTaintsPolicy), MatchLabelKeys: clone(c.MatchLabelKeys)}
	})
}

func nodeAffinity(v *corev1.NodeAffinity) *corev1.NodeAffinity {
	if v == nil {
		return nil
	}
	out := &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: convert(v.PreferredDuringSchedulingIgnoredDuringExecution,
		func(p corev1.PreferredSchedulingTerm) corev1.PreferredSchedulingTerm {
			return corev1.PreferredSchedulingTerm{Weight: p.Weight, Preference: nodeSelectorTerm(p.Preference)}
		})}
	if r := v.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
		out.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: convert(r.NodeSelectorTerms, nodeSelectorTerm)}
	}
	return out
}

func nodeSelectorTerm(t corev1.NodeSelectorTerm) corev1.NodeSelectorTerm {
	req := func(r corev1.NodeSelectorRequirement) corev1.NodeSelectorRequirement {
		return corev1.NodeSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: clone(r.Values)}
	}
	return corev1.NodeSelectorTerm{MatchExpressions: convert(t.MatchExpressions, req), MatchFields: convert(t.MatchFields, req)}
}
