package pods

import (
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Pod Security baseline's allowed values, enforced by the syncer whatever the tenant
// file allows (each spec.pods.allow* setting relaxes only its own field).
var (
	// baselineCapabilities may be added to a container.
	baselineCapabilities = []corev1.Capability{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
		"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
	// safeSysctls are namespaced to the pod and may be set.
	safeSysctls = []string{"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
		"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
		"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",
		"net.ipv4.tcp_wmem"}
	// seLinuxTypes may be set; SELinux user and role may not.
	seLinuxTypes = []string{"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)

const baseline = "Pod Security baseline does not allow it"

func (b *specBuilder) podSecurity(v *corev1.PodSecurityContext) *corev1.PodSecurityContext {
	if v == nil {
		return nil
	}
	const path = "spec.securityContext"
	b.windows(path, v.WindowsOptions)
	return &corev1.PodSecurityContext{
		SELinuxOptions: b.seLinux(path, v.SELinuxOptions),
		RunAsUser:      cp(v.RunAsUser), RunAsGroup: cp(v.RunAsGroup), RunAsNonRoot: cp(v.RunAsNonRoot),
		SupplementalGroups: clone(v.SupplementalGroups), SupplementalGroupsPolicy: cp(v.SupplementalGroupsPolicy),
		FSGroup: cp(v.FSGroup), FSGroupChangePolicy: cp(v.FSGroupChangePolicy), SELinuxChangePolicy: cp(v.SELinuxChangePolicy),
		Sysctls:         b.sysctls(path, v.Sysctls),
		SeccompProfile:  b.seccomp(path, v.SeccompProfile),
		AppArmorProfile: b.appArmor(path, v.AppArmorProfile),
	}
}

func (b *specBuilder) containerSecurity(path string, v *corev1.SecurityContext) *corev1.SecurityContext {
	if v == nil {
		return nil
	}
	if v.Privileged != nil && *v.Privileged && !b.policy.AllowPrivileged {
		b.refuse(path+".privileged", notSet("allowPrivileged"))
	}
	if v.ProcMount != nil && *v.ProcMount != corev1.DefaultProcMount {
		b.refuse(path+".procMount", baseline+": only Default")
	}
	b.windows(path, v.WindowsOptions)
	return &corev1.SecurityContext{
		Capabilities: b.capabilities(path, v.Capabilities), Privileged: cp(v.Privileged),
		SELinuxOptions: b.seLinux(path, v.SELinuxOptions),
		RunAsUser:      cp(v.RunAsUser), RunAsGroup: cp(v.RunAsGroup), RunAsNonRoot: cp(v.RunAsNonRoot),
		ReadOnlyRootFilesystem: cp(v.ReadOnlyRootFilesystem), AllowPrivilegeEscalation: cp(v.AllowPrivilegeEscalation),
		ProcMount: cp(v.ProcMount), SeccompProfile: b.seccomp(path, v.SeccompProfile), AppArmorProfile: b.appArmor(path, v.AppArmorProfile),
	}
}

// capabilities lets containers add only baseline capabilities; any may be dropped.
func (b *specBuilder) capabilities(path string, v *corev1.Capabilities) *corev1.Capabilities {
	if v == nil {
		return nil
	}
	for i, c := range v.Add {
		if !slices.Contains(baselineCapabilities, c) {
			b.refuse(path+".capabilities.add["+strconv.Itoa(i)+"]", "capability "+string(c)+" is beyond Pod Security baseline")
		}
	}
	return &corev1.Capabilities{Add: clone(v.Add), Drop: clone(v.Drop)}
}

// windows refuses host processes; Windows options are never copied (Linux nodes only).
func (b *specBuilder) windows(path string, v *corev1.WindowsSecurityContextOptions) {
	if v != nil && v.HostProcess != nil && *v.HostProcess {
		b.refuse(path+".windowsOptions.hostProcess", baseline)
	}
}

func (b *specBuilder) seLinux(path string, v *corev1.SELinuxOptions) *corev1.SELinuxOptions {
	if v == nil {
		return nil
	}
	if !slices.Contains(seLinuxTypes, v.Type) {
		b.refuse(path+".seLinuxOptions.type", baseline+": only "+strings.Join(seLinuxTypes[1:], ", "))
	}
	if v.User != "" {
		b.refuse(path+".seLinuxOptions.user", baseline)
	}
	if v.Role != "" {
		b.refuse(path+".seLinuxOptions.role", baseline)
	}
	return &corev1.SELinuxOptions{Type: v.Type, Level: v.Level}
}

func (b *specBuilder) seccomp(path string, v *corev1.SeccompProfile) *corev1.SeccompProfile {
	if v == nil {
		return nil
	}
	if v.Type != corev1.SeccompProfileTypeRuntimeDefault && v.Type != corev1.SeccompProfileTypeLocalhost {
		b.refuse(path+".seccompProfile.type", baseline+": only RuntimeDefault or Localhost")
	}
	return &corev1.SeccompProfile{Type: v.Type, LocalhostProfile: cp(v.LocalhostProfile)}
}

func (b *specBuilder) appArmor(path string, v *corev1.AppArmorProfile) *corev1.AppArmorProfile {
	if v == nil {
		return nil
	}
	if v.Type != corev1.AppArmorProfileTypeRuntimeDefault && v.Type != corev1.AppArmorProfileTypeLocalhost {
		b.refuse(path+".appArmorProfile.type", baseline+": only RuntimeDefault or Localhost")
	}
	return &corev1.AppArmorProfile{Type: v.Type, LocalhostProfile: cp(v.LocalhostProfile)}
}

func (b *specBuilder) sysctls(path string, in []corev1.Sysctl) []corev1.Sysctl {
	for i, s := range in {
		if !slices.Contains(safeSysctls, s.Name) {
			b.refuse(path+".sysctls["+strconv.Itoa(i)+"]", "sysctl "+s.Name+" is not in Pod Security baseline's safe set")
		}
	}
	return convert(in, func(s corev1.Sysctl) corev1.Sysctl { return corev1.Sysctl{Name: s.Name, Value: s.Value} })
}

// podAnnotations refuses the annotation forms of an unconfined AppArmor or seccomp
// profile, so the tenant learns why; like every kubernetes.io key they are never copied.
func podAnnotations(key, value string) (keep bool, reason string, ok bool) {
	switch {
	case strings.HasPrefix(key, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix),
		key == corev1.SeccompPodAnnotationKey || strings.HasPrefix(key, corev1.SeccompContainerAnnotationKeyPrefix):
		if value == corev1.DeprecatedAppArmorBetaProfileNameUnconfined || value == corev1.SeccompProfileNameUnconfined {
			return false, baseline + ": unconfined", true
		}
		return false, "", true
	}
	return false, "", false
}
