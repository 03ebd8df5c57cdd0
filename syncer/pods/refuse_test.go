package pods

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/translate"
)

// TestToHostRefuses tries each pod a hostile tenant might write; each spec.pods.allow*
// setting relaxes only its own field, and Pod Security baseline holds for the rest.
func TestToHostRefuses(t *testing.T) {
	hostPath := corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}
	all := v1alpha1.PodPolicy{AllowHostPath: true, AllowHostNetwork: true, AllowHostPID: true, AllowPrivileged: true}
	sc := func(s *corev1.SecurityContext) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = s }
	}
	podSC := func(s *corev1.PodSecurityContext) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.SecurityContext = s }
	}
	volume := func(v corev1.VolumeSource) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "x", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, {Name: "v", VolumeSource: v}}
		}
	}
	projectedToken := func(t corev1.ServiceAccountTokenProjection) func(*corev1.Pod) {
		return volume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: &t}}}})
	}
	tolerate := func(ts ...corev1.Toleration) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Tolerations = ts }
	}
	claim := func(edit func(*corev1.PersistentVolumeClaimSpec)) corev1.VolumeSource {
		tmpl := &corev1.PersistentVolumeClaimTemplate{}
		edit(&tmpl.Spec)
		return corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: tmpl}}
	}
	tests := []struct {
		name   string
		edit   func(*corev1.Pod)
		policy v1alpha1.PodPolicy
		want   string // "" means allowed
	}{
		{name: "plain pod", edit: func(*corev1.Pod) {}},
		{name: "hostPath refused", edit: func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "x", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, hostPath}
		},
			want: "spec.volumes[1].hostPath is not allowed: the tenant file does not set spec.pods.allowHostPath"},
		{name: "hostPath allowed", edit: func(p *corev1.Pod) { p.Spec.Volumes = []corev1.Volume{hostPath} }, policy: v1alpha1.PodPolicy{AllowHostPath: true}},
		{name: "hostNetwork", edit: func(p *corev1.Pod) { p.Spec.HostNetwork = true },
			want: "spec.hostNetwork is not allowed: the tenant file does not set spec.pods.allowHostNetwork"},
		{name: "hostPID", edit: func(p *corev1.Pod) { p.Spec.HostPID = true },
			want: "spec.hostPID is not allowed: the tenant file does not set spec.pods.allowHostPID"},
		{name: "hostIPC always refused", edit: func(p *corev1.Pod) { p.Spec.HostIPC = true }, policy: all,
			want: "spec.hostIPC is not allowed: no tenant-file setting allows it"},
		{name: "privileged init container", edit: func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "i", SecurityContext: &corev1.SecurityContext{Privileged: new(true)}}}
		}, want: "spec.initContainers[0].securityContext.privileged is not allowed: the tenant file does not set spec.pods.allowPrivileged"},
		{name: "privileged allowed", edit: sc(&corev1.SecurityContext{Privileged: new(true)}), policy: v1alpha1.PodPolicy{AllowPrivileged: true}},
		{name: "SYS_ADMIN with allowHostPath", edit: sc(&corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"CHOWN", "SYS_ADMIN"}}}),
			policy: v1alpha1.PodPolicy{AllowHostPath: true}, want: "spec.containers[0].securityContext.capabilities.add[1] is not allowed: capability SYS_ADMIN"},
		{name: "NET_ADMIN even with everything allowed", edit: sc(&corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}}),
			policy: all, want: "capability NET_ADMIN is beyond Pod Security baseline"},
		{name: "baseline capabilities and drops", edit: sc(&corev1.SecurityContext{Capabilities: &corev1.Capabilities{
			Add: []corev1.Capability{"NET_BIND_SERVICE"}, Drop: []corev1.Capability{"ALL"}}})},
		{name: "hostPort", edit: func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
		},
			policy: v1alpha1.PodPolicy{AllowHostPath: true}, want: "spec.containers[0].ports[0].hostPort is not allowed: the tenant file does not set spec.pods.allowHostNetwork"},
		{name: "hostPort with allowHostNetwork", edit: func(p *corev1.Pod) {
			p.Spec.HostNetwork, p.Spec.Containers[0].Ports = true, []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
		}, policy: v1alpha1.PodPolicy{AllowHostNetwork: true}},
		{name: "unmasked procMount", edit: sc(&corev1.SecurityContext{ProcMount: new(corev1.UnmaskedProcMount)}), policy: all,
			want: "spec.containers[0].securityContext.procMount is not allowed"},
		{name: "seccomp Unconfined", edit: podSC(&corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}),
			policy: all, want: "spec.securityContext.seccompProfile.type is not allowed"},
		{name: "seccomp RuntimeDefault", edit: sc(&corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}})},
		{name: "AppArmor Unconfined", edit: sc(&corev1.SecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}}),
			policy: all, want: "spec.containers[0].securityContext.appArmorProfile.type is not allowed"},
		{name: "AppArmor unconfined annotation", edit: func(p *corev1.Pod) {
			p.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/c": "unconfined"}
		}, policy: all, want: `metadata.annotations["container.apparmor.security.beta.kubernetes.io/c"] is not allowed`},
		{name: "SELinux spc_t", edit: sc(&corev1.SecurityContext{SELinuxOptions: &corev1.SELinuxOptions{Type: "spc_t"}}), policy: all,
			want: "spec.containers[0].securityContext.seLinuxOptions.type is not allowed"},
		{name: "SELinux user", edit: podSC(&corev1.PodSecurityContext{SELinuxOptions: &corev1.SELinuxOptions{User: "system_u"}}), policy: all,
			want: "spec.securityContext.seLinuxOptions.user is not allowed"},
		{name: "SELinux container_t with level", edit: podSC(&corev1.PodSecurityContext{SELinuxOptions: &corev1.SELinuxOptions{Type: "container_t", Level: "s0:c1"}})},
		{name: "unsafe sysctl", edit: podSC(&corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "net.ipv4.tcp_syncookies", Value: "1"},
			{Name: "kernel.msgmax", Value: "1"}}}), policy: all, want: "spec.securityContext.sysctls[1] is not allowed: sysctl kernel.msgmax"},
		{name: "Windows host process", edit: sc(&corev1.SecurityContext{WindowsOptions: &corev1.WindowsSecurityContextOptions{HostProcess: new(true)}}),
			policy: all, want: "spec.containers[0].securityContext.windowsOptions.hostProcess is not allowed"},
		{name: "NFS volume", edit: volume(corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "10.0.0.1", Path: "/"}}), policy: all,
			want: "spec.volumes[1].nfs is not allowed: only configMap"},
		{name: "two volume types in one", edit: volume(corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}, GitRepo: &corev1.GitRepoVolumeSource{}}),
			policy: all, want: "spec.volumes[1].emptyDir,gitRepo is not allowed"},
		{name: "projected service account token", edit: projectedToken(corev1.ServiceAccountTokenProjection{Audience: "vault", ExpirationSeconds: new(int64(600)), Path: "t"})},
		{name: "projected token shorter than the API allows", edit: projectedToken(corev1.ServiceAccountTokenProjection{ExpirationSeconds: new(int64(599)), Path: "t"}),
			want: "spec.volumes[1].projected.sources[0].serviceAccountToken.expirationSeconds is not allowed: shorter than 600 seconds"},
		{name: "projected token without a path", edit: projectedToken(corev1.ServiceAccountTokenProjection{Audience: "vault"}),
			want: "spec.volumes[1].projected.sources[0].serviceAccountToken.path is not allowed: a token needs a path"},
		{name: "cluster trust bundle", edit: volume(corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ClusterTrustBundle: &corev1.ClusterTrustBundleProjection{Path: "b"}}}}}),
			want: "spec.volumes[1].projected.sources[0].clusterTrustBundle is not allowed"},
		{name: "ephemeral volumeName", edit: volume(claim(func(s *corev1.PersistentVolumeClaimSpec) { s.VolumeName = "someone-elses-pv" })),
			want: "spec.volumes[1].ephemeral.volumeClaimTemplate.spec.volumeName is not allowed"},
		{name: "ephemeral selector", edit: volume(claim(func(s *corev1.PersistentVolumeClaimSpec) { s.Selector = &metav1.LabelSelector{} })),
			want: "spec.volumes[1].ephemeral.volumeClaimTemplate.spec.selector is not allowed"},
		{name: "ephemeral data source", edit: volume(claim(func(s *corev1.PersistentVolumeClaimSpec) {
			s.DataSource = &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "x"}
		})), want: "spec.volumes[1].ephemeral.volumeClaimTemplate.spec.dataSource is not allowed"},
		{name: "probe to another host", edit: func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "169.254.169.254"}}}
		}, want: "spec.containers[0].livenessProbe.httpGet.host is not allowed"},
		{name: "preStop to another host", edit: func(p *corev1.Pod) {
			p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{TCPSocket: &corev1.TCPSocketAction{Host: "10.0.0.1"}}}
		}, want: "spec.containers[0].lifecycle.preStop.tcpSocket.host is not allowed"},
		{name: "toleration of the control-plane taint", edit: tolerate(corev1.Toleration{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists}),
			policy: all, want: "spec.tolerations[0] is not allowed: a pod may tolerate only node-condition taints"},
		{name: "toleration of every taint", edit: tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists}),
			policy: v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}},
			want:   "spec.tolerations[0] is not allowed"},
		{name: "node-condition tolerations", edit: tolerate(
			corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
			corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})},
		{name: "toleration the tenant file's covers", edit: tolerate(corev1.Toleration{Key: "dedicated", Value: "tenants", Effect: corev1.TaintEffectNoSchedule}),
			policy: v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "tenants"}}}},
		{name: "toleration of another value of the tenant file's key", edit: tolerate(corev1.Toleration{Key: "dedicated", Value: "gpu"}),
			policy: v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "tenants"}}},
			want:   "spec.tolerations[0] is not allowed"},
		{name: "Exists where the tenant file tolerates one value", edit: tolerate(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists}),
			policy: v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{{Key: "dedicated", Value: "tenants"}}},
			want:   "spec.tolerations[0] is not allowed"},
		{name: "every effect where the tenant file tolerates one", edit: tolerate(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists}),
			policy: v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}},
			want:   "spec.tolerations[0] is not allowed"},
		{name: "any value where the tenant file tolerates the key", edit: tolerate(corev1.Toleration{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoExecute}),
			policy: v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}}},
		{name: "resource claims", edit: func(p *corev1.Pod) {
			p.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimName: new("gpu-claim")}}
		}, want: "spec.resourceClaims is not allowed"},
		{name: "container resource claims", edit: func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
		}, want: "spec.containers[0].resources.claims is not allowed"},
		{name: "runtime class", edit: func(p *corev1.Pod) { p.Spec.RuntimeClassName = new("unconfined") }, want: "spec.runtimeClassName is not allowed"},
		{name: "reserved label", edit: func(p *corev1.Pod) { p.Labels = map[string]string{translate.LabelControlPlane: "team-a"} }, policy: all,
			want: `metadata.labels["vcluster.tenantry.dev/control-plane"] is not allowed`},
		{name: "affinity across namespaces", edit: func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
				{TopologyKey: "kubernetes.io/hostname", Namespaces: []string{"tenant-team-b"}}}}}
		}, want: "spec.affinity.podAffinity.namespaces is not allowed"},
		{name: "two refusals", edit: func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: new(true)}
		}, want: "spec.containers[0].securityContext.privileged is not allowed: the tenant file does not set spec.pods.allowPrivileged\n" +
			"spec.hostNetwork is not allowed: the tenant file does not set spec.pods.allowHostNetwork"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop", UID: "u1"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
			tt.edit(v)
			o := testOptions
			o.Pods = tt.policy
			h, err := ToHost(v, o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "":
				return
			case err == nil:
				t.Fatalf("allowed, want a refusal containing %q; host spec %+v", tt.want, h.Spec)
			case !translate.IsRefused(err) || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("err = %q, want a refusal containing %q", err, tt.want)
			}
			raw := o
			raw.DisableChecks = true
			if _, err := ToHost(v, raw); err != nil {
				t.Fatalf("DisableChecks still refuses: %v", err)
			}
		})
	}
}
