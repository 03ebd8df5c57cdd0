package pods

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Check returns why a pod may not run on the host under the tenant's pod policy, naming
// each refused field and the tenant-file setting that would allow it; nil if allowed.
func Check(pod *corev1.Pod, p v1alpha1.PodPolicy) error {
	var errs []error
	refuse := func(field string, allowed bool, setting string) {
		if !allowed {
			errs = append(errs, fmt.Errorf("%s is not allowed: the tenant file does not set spec.pods.%s", field, setting))
		}
	}
	for i, v := range pod.Spec.Volumes {
		if v.HostPath != nil {
			refuse(fmt.Sprintf("spec.volumes[%d].hostPath", i), p.AllowHostPath, "allowHostPath")
		}
	}
	if pod.Spec.HostNetwork {
		refuse("spec.hostNetwork", p.AllowHostNetwork, "allowHostNetwork")
	}
	if pod.Spec.HostPID {
		refuse("spec.hostPID", p.AllowHostPID, "allowHostPID")
	}
	if pod.Spec.HostIPC {
		errs = append(errs, errors.New("spec.hostIPC is not allowed: no tenant-file setting allows it"))
	}
	for _, c := range securityContexts(pod) {
		if c.sc != nil && c.sc.Privileged != nil && *c.sc.Privileged {
			refuse(c.field+".securityContext.privileged", p.AllowPrivileged, "allowPrivileged")
		}
	}
	return errors.Join(errs...)
}

type fieldContext struct {
	field string
	sc    *corev1.SecurityContext
}

// securityContexts returns every container's security context with its field path, in order.
func securityContexts(pod *corev1.Pod) []fieldContext {
	var out []fieldContext
	for i, c := range pod.Spec.InitContainers {
		out = append(out, fieldContext{fmt.Sprintf("spec.initContainers[%d]", i), c.SecurityContext})
	}
	for i, c := range pod.Spec.Containers {
		out = append(out, fieldContext{fmt.Sprintf("spec.containers[%d]", i), c.SecurityContext})
	}
	for i, c := range pod.Spec.EphemeralContainers {
		out = append(out, fieldContext{fmt.Sprintf("spec.ephemeralContainers[%d]", i), c.SecurityContext})
	}
	return out
}
