package loader

import (
	corev1 "k8s.io/api/core/v1"
)

// canonicalResource maps the short quota keys to the ones ResourceQuota treats them as:
// cpu is requests.cpu, memory requests.memory, ephemeral-storage requests.ephemeral-storage.
func canonicalResource(name corev1.ResourceName) corev1.ResourceName {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return "requests." + name
	}
	return name
}

// caps maps each canonical key of maxQuota to the key its cap is written as; when both
// spellings are capped, the lower cap wins.
func caps(maxQuota corev1.ResourceList) map[corev1.ResourceName]corev1.ResourceName {
	out := map[corev1.ResourceName]corev1.ResourceName{}
	for _, name := range sortedKeys(maxQuota) {
		key := canonicalResource(name)
		prev, ok := out[key]
		if lim, prevLim := maxQuota[name], maxQuota[prev]; !ok || lim.Cmp(prevLim) < 0 {
			out[key] = name
		}
	}
	return out
}

// checkMaxQuota reports each quota value above the platform maximum for its key, comparing
// canonical keys: a cap on requests.cpu also caps cpu, and the other way round.
func checkMaxQuota(c *collector, base string, quota, maxQuota corev1.ResourceList) {
	capped := caps(maxQuota)
	for _, name := range sortedKeys(quota) {
		capName, ok := capped[canonicalResource(name)]
		q, limit := quota[name], maxQuota[capName]
		if ok && q.Cmp(limit) > 0 {
			c.field(child(base, string(name)), "%s exceeds the platform maximum %s%s", q.String(), limit.String(), capNote(name, capName))
		}
	}
}

// capNote names the cap's key when it is written differently from the quota's.
func capNote(name, capName corev1.ResourceName) string {
	if name == capName {
		return ""
	}
	return " (maxQuota " + string(capName) + ")"
}

// capMissingQuota sets every capped key the quota lacks (in either spelling) to its cap, so
// that leaving a key out cannot mean unlimited.
func capMissingQuota(quota, maxQuota corev1.ResourceList) corev1.ResourceList {
	have := map[corev1.ResourceName]bool{}
	for name := range quota {
		have[canonicalResource(name)] = true
	}
	for key, capName := range caps(maxQuota) {
		if have[key] {
			continue
		}
		if quota == nil {
			quota = corev1.ResourceList{}
		}
		quota[capName] = maxQuota[capName].DeepCopy()
	}
	return quota
}

// mergeQuota returns own with the keys it lacks taken from def, a key counting as present
// in either spelling (a tenant's cpu keeps the defaults' requests.cpu out).
func mergeQuota(own, def corev1.ResourceList) corev1.ResourceList {
	if len(def) == 0 {
		return own
	}
	have := map[corev1.ResourceName]bool{}
	for name := range own {
		have[canonicalResource(name)] = true
	}
	out := make(corev1.ResourceList, len(own)+len(def))
	for name, q := range def {
		if !have[canonicalResource(name)] {
			out[name] = q.DeepCopy()
		}
	}
	for name, q := range own {
		out[name] = q
	}
	return out
}
