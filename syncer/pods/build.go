package pods

import (
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/translate"
)

// specBuilder builds a host pod spec field by field from a virtual one: what Fields lists
// is copied (or refused, with the reason), anything else is never copied. Ephemeral
// containers are left out: the API adds them only to an existing pod (EphemeralToHost). Names are
// translated afterwards, by the same steps as the raw copy of DisableChecks.
type specBuilder struct {
	t       translate.Translator
	policy  v1alpha1.PodPolicy
	vns     string
	refused *translate.Refusals
}

func (b *specBuilder) refuse(field, reason string) { b.refused.Add(field, reason) }

// notSet is the reason for a field the tenant file can allow.
func notSet(setting string) string { return "the tenant file does not set spec.pods." + setting }

// never is the reason for a field no tenant file can allow.
const never = "no tenant-file setting allows it"

func (b *specBuilder) spec(v *corev1.PodSpec) corev1.PodSpec {
	s := corev1.PodSpec{
		Volumes:        b.volumes(v.Volumes),
		InitContainers: b.containers("spec.initContainers", v.InitContainers),
		Containers:     b.containers("spec.containers", v.Containers),
		RestartPolicy:  v.RestartPolicy, TerminationGracePeriodSeconds: cp(v.TerminationGracePeriodSeconds),
		ActiveDeadlineSeconds: cp(v.ActiveDeadlineSeconds),
		DNSPolicy:             v.DNSPolicy, DNSConfig: dnsConfig(v.DNSConfig),
		NodeSelector: maps.Clone(v.NodeSelector),
		HostNetwork:  v.HostNetwork, HostPID: v.HostPID, ShareProcessNamespace: cp(v.ShareProcessNamespace),
		SecurityContext:  b.podSecurity(v.SecurityContext),
		ImagePullSecrets: localRefs(v.ImagePullSecrets),
		Hostname:         v.Hostname, Subdomain: v.Subdomain, SetHostnameAsFQDN: cp(v.SetHostnameAsFQDN),
		Affinity:                  b.affinity(v.Affinity),
		Tolerations:               b.tolerations(v.Tolerations),
		HostAliases:               hostAliases(v.HostAliases),
		ReadinessGates:            readinessGates(v.ReadinessGates),
		TopologySpreadConstraints: b.spread(v.TopologySpreadConstraints),
		HostUsers:                 cp(v.HostUsers),
	}
	if v.OS != nil {
		s.OS = &corev1.PodOS{Name: v.OS.Name}
	}
	b.hostNamespaces(v)
	if v.RuntimeClassName != nil && *v.RuntimeClassName != "" {
		b.refuse("spec.runtimeClassName", "the host's runtime classes are chosen by the platform")
	}
	if len(v.ResourceClaims) > 0 {
		b.refuse("spec.resourceClaims", noDRA)
	}
	return s
}

// hostNamespaces refuses host namespaces the tenant file does not allow.
func (b *specBuilder) hostNamespaces(v *corev1.PodSpec) {
	if v.HostNetwork && !b.policy.AllowHostNetwork {
		b.refuse("spec.hostNetwork", notSet("allowHostNetwork"))
	}
	if v.HostPID && !b.policy.AllowHostPID {
		b.refuse("spec.hostPID", notSet("allowHostPID"))
	}
	if v.HostIPC {
		b.refuse("spec.hostIPC", never)
	}
}

func (b *specBuilder) containers(path string, in []corev1.Container) []corev1.Container {
	if in == nil {
		return nil
	}
	out := make([]corev1.Container, len(in))
	for i := range in {
		out[i] = b.container(path+"["+strconv.Itoa(i)+"]", &in[i])
	}
	return out
}

// noDRA is the reason for resource claims: the host copy would run without the device.
const noDRA = "resource claims are not synced to the host, which would run the pod without its devices"

func (b *specBuilder) container(path string, v *corev1.Container) corev1.Container {
	if len(v.Resources.Claims) > 0 {
		b.refuse(path+".resources.claims", noDRA)
	}
	return corev1.Container{
		Name: v.Name, Image: v.Image, Command: clone(v.Command), Args: clone(v.Args), WorkingDir: v.WorkingDir,
		Ports: b.ports(path, v.Ports), EnvFrom: envFrom(v.EnvFrom), Env: env(v.Env),
		Resources:    corev1.ResourceRequirements{Limits: v.Resources.Limits.DeepCopy(), Requests: v.Resources.Requests.DeepCopy()},
		ResizePolicy: resizePolicy(v.ResizePolicy), RestartPolicy: cp(v.RestartPolicy),
		VolumeMounts: volumeMounts(v.VolumeMounts), VolumeDevices: volumeDevices(v.VolumeDevices),
		LivenessProbe:          b.probe(path+".livenessProbe", v.LivenessProbe),
		ReadinessProbe:         b.probe(path+".readinessProbe", v.ReadinessProbe),
		StartupProbe:           b.probe(path+".startupProbe", v.StartupProbe),
		Lifecycle:              b.lifecycle(path+".lifecycle", v.Lifecycle),
		TerminationMessagePath: v.TerminationMessagePath, TerminationMessagePolicy: v.TerminationMessagePolicy,
		ImagePullPolicy: v.ImagePullPolicy, SecurityContext: b.containerSecurity(path+".securityContext", v.SecurityContext),
		Stdin: v.Stdin, StdinOnce: v.StdinOnce, TTY: v.TTY,
	}
}

// ports copies container ports; host ports come with host networking only.
func (b *specBuilder) ports(path string, in []corev1.ContainerPort) []corev1.ContainerPort {
	if in == nil {
		return nil
	}
	out := make([]corev1.ContainerPort, len(in))
	for i, p := range in {
		out[i] = corev1.ContainerPort{Name: p.Name, ContainerPort: p.ContainerPort, Protocol: p.Protocol}
		if p.HostPort == 0 && p.HostIP == "" {
			continue
		}
		if !b.policy.AllowHostNetwork {
			b.refuse(path+".ports["+strconv.Itoa(i)+"].hostPort", notSet("allowHostNetwork"))
			continue
		}
		out[i].HostPort, out[i].HostIP = p.HostPort, p.HostIP
	}
	return out
}

func env(in []corev1.EnvVar) []corev1.EnvVar {
	if in == nil {
		return nil
	}
	out := make([]corev1.EnvVar, len(in))
	for i, e := range in {
		out[i] = corev1.EnvVar{Name: e.Name, Value: e.Value}
		if vf := e.ValueFrom; vf != nil {
			out[i].ValueFrom = &corev1.EnvVarSource{FieldRef: fieldRef(vf.FieldRef), ResourceFieldRef: resourceFieldRef(vf.ResourceFieldRef)}
			if r := vf.ConfigMapKeyRef; r != nil {
				out[i].ValueFrom.ConfigMapKeyRef = &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: r.Name},
					Key: r.Key, Optional: cp(r.Optional)}
			}
			if r := vf.SecretKeyRef; r != nil {
				out[i].ValueFrom.SecretKeyRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: r.Name},
					Key: r.Key, Optional: cp(r.Optional)}
			}
		}
	}
	return out
}

func envFrom(in []corev1.EnvFromSource) []corev1.EnvFromSource {
	if in == nil {
		return nil
	}
	out := make([]corev1.EnvFromSource, len(in))
	for i, e := range in {
		out[i] = corev1.EnvFromSource{Prefix: e.Prefix}
		if r := e.ConfigMapRef; r != nil {
			out[i].ConfigMapRef = &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: r.Name}, Optional: cp(r.Optional)}
		}
		if r := e.SecretRef; r != nil {
			out[i].SecretRef = &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: r.Name}, Optional: cp(r.Optional)}
		}
	}
	return out
}

func fieldRef(r *corev1.ObjectFieldSelector) *corev1.ObjectFieldSelector {
	if r == nil {
		return nil
	}
	return &corev1.ObjectFieldSelector{APIVersion: r.APIVersion, FieldPath: r.FieldPath}
}

func resourceFieldRef(r *corev1.ResourceFieldSelector) *corev1.ResourceFieldSelector {
	if r == nil {
		return nil
	}
	return &corev1.ResourceFieldSelector{ContainerName: r.ContainerName, Resource: r.Resource, Divisor: r.Divisor.DeepCopy()}
}

func resizePolicy(in []corev1.ContainerResizePolicy) []corev1.ContainerResizePolicy {
	return convert(in, func(p corev1.ContainerResizePolicy) corev1.ContainerResizePolicy {
		return corev1.ContainerResizePolicy{ResourceName: p.ResourceName, RestartPolicy: p.RestartPolicy}
	})
}

func volumeMounts(in []corev1.VolumeMount) []corev1.VolumeMount {
	return convert(in, func(m corev1.VolumeMount) corev1.VolumeMount {
		return corev1.VolumeMount{Name: m.Name, ReadOnly: m.ReadOnly, RecursiveReadOnly: cp(m.RecursiveReadOnly), MountPath: m.MountPath,
			SubPath: m.SubPath, MountPropagation: cp(m.MountPropagation), SubPathExpr: m.SubPathExpr}
	})
}

func volumeDevices(in []corev1.VolumeDevice) []corev1.VolumeDevice {
	return convert(in, func(d corev1.VolumeDevice) corev1.VolumeDevice {
		return corev1.VolumeDevice{Name: d.Name, DevicePath: d.DevicePath}
	})
}

func (b *specBuilder) probe(path string, v *corev1.Probe) *corev1.Probe {
	if v == nil {
		return nil
	}
	h := v.ProbeHandler
	p := &corev1.Probe{InitialDelaySeconds: v.InitialDelaySeconds, TimeoutSeconds: v.TimeoutSeconds, PeriodSeconds: v.PeriodSeconds,
		SuccessThreshold: v.SuccessThreshold, FailureThreshold: v.FailureThreshold, TerminationGracePeriodSeconds: cp(v.TerminationGracePeriodSeconds),
		ProbeHandler: corev1.ProbeHandler{Exec: exec(h.Exec), HTTPGet: b.httpGet(path, h.HTTPGet), TCPSocket: b.tcpSocket(path, h.TCPSocket)}}
	if h.GRPC != nil {
		p.GRPC = &corev1.GRPCAction{Port: h.GRPC.Port, Service: cp(h.GRPC.Service)}
	}
	return p
}

func (b *specBuilder) lifecycle(path string, v *corev1.Lifecycle) *corev1.Lifecycle {
	if v == nil {
		return nil
	}
	return &corev1.Lifecycle{PostStart: b.handler(path+".postStart", v.PostStart), PreStop: b.handler(path+".preStop", v.PreStop)}
}

func (b *specBuilder) handler(path string, v *corev1.LifecycleHandler) *corev1.LifecycleHandler {
	if v == nil {
		return nil
	}
	h := &corev1.LifecycleHandler{Exec: exec(v.Exec), HTTPGet: b.httpGet(path, v.HTTPGet), TCPSocket: b.tcpSocket(path, v.TCPSocket)}
	if v.Sleep != nil {
		h.Sleep = &corev1.SleepAction{Seconds: v.Sleep.Seconds}
	}
	return h
}

func exec(v *corev1.ExecAction) *corev1.ExecAction {
	if v == nil {
		return nil
	}
	return &corev1.ExecAction{Command: clone(v.Command)}
}

// hostField is the reason probes and hooks may not name a host: the kubelet would
// connect from the node to any address the tenant picks (Pod Security baseline).
const hostField = "probes and lifecycle hooks may only reach the pod itself (Pod Security baseline)"

func (b *specBuilder) httpGet(path string, v *corev1.HTTPGetAction) *corev1.HTTPGetAction {
	if v == nil {
		return nil
	}
	if v.Host != "" {
		b.refuse(path+".httpGet.host", hostField)
	}
	return &corev1.HTTPGetAction{Path: v.Path, Port: v.Port, Scheme: v.Scheme,
		HTTPHeaders: convert(v.HTTPHeaders, func(h corev1.HTTPHeader) corev1.HTTPHeader { return corev1.HTTPHeader{Name: h.Name, Value: h.Value} })}
}

func (b *specBuilder) tcpSocket(path string, v *corev1.TCPSocketAction) *corev1.TCPSocketAction {
	if v == nil {
		return nil
	}
	if v.Host != "" {
		b.refuse(path+".tcpSocket.host", hostField)
	}
	return &corev1.TCPSocketAction{Port: v.Port}
}

func dnsConfig(v *corev1.PodDNSConfig) *corev1.PodDNSConfig {
	if v == nil {
		return nil
	}
	return &corev1.PodDNSConfig{Nameservers: clone(v.Nameservers), Searches: clone(v.Searches),
		Options: convert(v.Options, func(o corev1.PodDNSConfigOption) corev1.PodDNSConfigOption {
			return corev1.PodDNSConfigOption{Name: o.Name, Value: cp(o.Value)}
		})}
}

func localRefs(in []corev1.LocalObjectReference) []corev1.LocalObjectReference {
	return convert(in, func(r corev1.LocalObjectReference) corev1.LocalObjectReference {
		return corev1.LocalObjectReference{Name: r.Name}
	})
}

func tolerations(in []corev1.Toleration) []corev1.Toleration {
	return convert(in, func(t corev1.Toleration) corev1.Toleration {
		return corev1.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect, TolerationSeconds: cp(t.TolerationSeconds)}
	})
}

func hostAliases(in []corev1.HostAlias) []corev1.HostAlias {
	return convert(in, func(h corev1.HostAlias) corev1.HostAlias {
		return corev1.HostAlias{IP: h.IP, Hostnames: clone(h.Hostnames)}
	})
}

func readinessGates(in []corev1.PodReadinessGate) []corev1.PodReadinessGate {
	return convert(in, func(g corev1.PodReadinessGate) corev1.PodReadinessGate {
		return corev1.PodReadinessGate{ConditionType: g.ConditionType}
	})
}

// labelSelector copies a selector field by field.
func labelSelector(v *metav1.LabelSelector) *metav1.LabelSelector {
	if v == nil {
		return nil
	}
	return &metav1.LabelSelector{MatchLabels: maps.Clone(v.MatchLabels),
		MatchExpressions: convert(v.MatchExpressions, func(r metav1.LabelSelectorRequirement) metav1.LabelSelectorRequirement {
			return metav1.LabelSelectorRequirement{Key: r.Key, Operator: r.Operator, Values: clone(r.Values)}
		})}
}

// cp copies what p points to.
func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// clone copies a slice of plain values, keeping nil nil.
func clone[T any](in []T) []T {
	if in == nil {
		return nil
	}
	return append(make([]T, 0, len(in)), in...)
}

// convert maps a slice, keeping nil nil.
func convert[T, U any](in []T, f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i := range in {
		out[i] = f(in[i])
	}
	return out
}
