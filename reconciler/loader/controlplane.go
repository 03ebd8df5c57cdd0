package loader

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// checkControlPlaneFits refuses a tenant whose quota or container limits cannot hold its
// own virtual control plane (v1alpha1.ControlPlaneResources, which the chart sets as the
// container's explicit requests and limits, so LimitRange defaults never apply): the
// tenant pays for its control plane, so it must be able to start. The numbers are named.
func checkControlPlaneFits(c *collector, s *v1alpha1.TenantSpec) {
	need := controlPlaneQuota(s)
	for _, name := range sortedKeys(s.Quota) {
		want, ok := need[canonicalResource(name)]
		if have := s.Quota[name]; ok && have.Cmp(want) < 0 {
			c.field(child("spec.quota", string(name)), "%s cannot hold the tenant's virtual control plane, which needs %s %s",
				have.String(), canonicalResource(name), want.String())
		}
	}
	checkUnsetResources(c, s)
	if s.Limits == nil {
		return
	}
	cp := v1alpha1.ControlPlaneResources
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if max, ok := s.Limits.Max[name]; ok && max.Cmp(cp.Limits[name]) < 0 {
			c.field(child("spec.limits.max", string(name)), "%s is below the virtual control plane's %s limit %s",
				max.String(), name, quantityString(cp.Limits[name]))
		}
		if min, ok := s.Limits.Min[name]; ok && min.Cmp(cp.Requests[name]) > 0 {
			c.field(child("spec.limits.min", string(name)), "%s is above the virtual control plane's %s request %s",
				min.String(), name, quantityString(cp.Requests[name]))
		}
	}
}

// controlPlaneQuota is what the control plane takes of each canonical quota key: its
// container's requests and limits, one pod, one Service, and with persistence one claim of
// its size.
func controlPlaneQuota(s *v1alpha1.TenantSpec) map[corev1.ResourceName]resource.Quantity {
	cp := v1alpha1.ControlPlaneResources
	one := resource.MustParse("1")
	need := map[corev1.ResourceName]resource.Quantity{
		"requests.cpu": cp.Requests[corev1.ResourceCPU], "requests.memory": cp.Requests[corev1.ResourceMemory],
		"limits.cpu": cp.Limits[corev1.ResourceCPU], "limits.memory": cp.Limits[corev1.ResourceMemory],
		corev1.ResourcePods: one, corev1.ResourceServices: one,
	}
	if size := s.Persistence.Size; size != nil && !size.IsZero() {
		need[corev1.ResourceRequestsStorage] = *size
		need[corev1.ResourcePersistentVolumeClaims] = one
	}
	return need
}

func quantityString(q resource.Quantity) string { return q.String() }

// checkUnsetResources refuses quota keys that make every pod declare a resource the control
// plane does not set (ephemeral storage), unless the tenant's LimitRange fills it in.
func checkUnsetResources(c *collector, s *v1alpha1.TenantSpec) {
	var def, defReq corev1.ResourceList
	if s.Limits != nil {
		def, defReq = s.Limits.Default, s.Limits.DefaultRequest
	}
	_, hasDef := def[corev1.ResourceEphemeralStorage]
	_, hasDefReq := defReq[corev1.ResourceEphemeralStorage]
	for _, name := range sortedKeys(s.Quota) {
		key := canonicalResource(name)
		filled := (key == "requests.ephemeral-storage" && (hasDef || hasDefReq)) || (key == "limits.ephemeral-storage" && hasDef)
		if !strings.HasSuffix(string(key), "ephemeral-storage") || filled {
			continue
		}
		c.field(child("spec.quota", string(name)), "every pod must then declare %s, which the virtual control plane does not: "+
			"give spec.limits.default an ephemeral-storage (defaults.yaml may), or its pod is refused", key)
	}
}
