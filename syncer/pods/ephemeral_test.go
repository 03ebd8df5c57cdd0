package pods

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/translate"
)

// TestEphemeralToHost adds debug containers as kubectl debug would, and as a hostile
// tenant would: each is held to the pod policy like any container.
func TestEphemeralToHost(t *testing.T) {
	debug := func(edit func(*corev1.EphemeralContainer)) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			ec := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger", Image: "busybox"}}
			edit(&ec)
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, ec)
		}
	}
	sc := func(s *corev1.SecurityContext) func(*corev1.EphemeralContainer) {
		return func(c *corev1.EphemeralContainer) { c.SecurityContext = s }
	}
	tests := []struct {
		name   string
		edit   func(*corev1.Pod)
		host   []string // ephemeral containers the host pod has already
		policy v1alpha1.PodPolicy
		want   string   // a refusal; "" means allowed
		added  []string // with a refusal: the containers still added
		check  func(*testing.T, []corev1.EphemeralContainer)
	}{
		{name: "kubectl debug", edit: debug(func(c *corev1.EphemeralContainer) {
			c.TargetContainerName, c.Stdin, c.TTY, c.Command = "app", true, true, []string{"sh"}
		}), check: func(t *testing.T, got []corev1.EphemeralContainer) {
			c := got[0]
			if len(got) != 1 || c.Name != "debugger" || c.Image != "busybox" || c.TargetContainerName != "app" || !c.Stdin || !c.TTY ||
				c.Command[0] != "sh" || envValue(c.Env, "KUBERNETES_SERVICE_HOST") != "10.96.0.50" {
				t.Fatalf("got %+v", got)
			}
		}},
		{name: "references translated", edit: debug(func(c *corev1.EphemeralContainer) {
			c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}}}}
			c.Env = []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
		}), check: func(t *testing.T, got []corev1.EphemeralContainer) {
			c := got[0]
			if c.EnvFrom[0].SecretRef.Name != testOptions.Name("creds", "shop") ||
				c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['"+translate.AnnotationName+"']" {
				t.Fatalf("got %+v", c)
			}
		}},
		{name: "already on the host", edit: debug(func(*corev1.EphemeralContainer) {}), host: []string{"debugger"},
			check: func(t *testing.T, got []corev1.EphemeralContainer) {
				if len(got) != 0 {
					t.Fatalf("added again: %+v", got)
				}
			}},
		{name: "target an init container", edit: debug(func(c *corev1.EphemeralContainer) { c.TargetContainerName = "init" })},
		{name: "target not in the pod", edit: debug(func(c *corev1.EphemeralContainer) { c.TargetContainerName = "kube-proxy" }),
			want: "spec.ephemeralContainers[0].targetContainerName is not allowed: container kube-proxy is not a container of the pod"},
		{name: "privileged", edit: debug(func(c *corev1.EphemeralContainer) { c.SecurityContext = &corev1.SecurityContext{Privileged: new(true)} }),
			want: "spec.ephemeralContainers[0].securityContext.privileged is not allowed: the tenant file does not set spec.pods.allowPrivileged"},
		{name: "privileged allowed", policy: v1alpha1.PodPolicy{AllowPrivileged: true},
			edit: debug(sc(&corev1.SecurityContext{Privileged: new(true)}))},
		{name: "SYS_PTRACE", edit: debug(sc(&corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_PTRACE"}}})),
			policy: v1alpha1.PodPolicy{AllowHostPath: true, AllowHostPID: true, AllowHostNetwork: true},
			want:   "spec.ephemeralContainers[0].securityContext.capabilities.add[0] is not allowed: capability SYS_PTRACE is beyond Pod Security baseline"},
		{name: "unmasked procMount", edit: debug(sc(&corev1.SecurityContext{ProcMount: new(corev1.UnmaskedProcMount)})),
			want: "spec.ephemeralContainers[0].securityContext.procMount is not allowed"},
		{name: "unconfined seccomp", edit: debug(sc(&corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}})),
			want: "spec.ephemeralContainers[0].securityContext.seccompProfile.type is not allowed"},
		{name: "SELinux spc_t", edit: debug(sc(&corev1.SecurityContext{SELinuxOptions: &corev1.SELinuxOptions{Type: "spc_t"}})),
			want: "spec.ephemeralContainers[0].securityContext.seLinuxOptions.type is not allowed"},
		{name: "the first of two refused, the second added", edit: func(p *corev1.Pod) {
			debug(func(c *corev1.EphemeralContainer) {
				c.Name, c.SecurityContext = "root", &corev1.SecurityContext{Privileged: new(true)}
			})(p)
			debug(func(*corev1.EphemeralContainer) {})(p)
		}, want: "spec.ephemeralContainers[0].securityContext.privileged is not allowed", added: []string{"debugger"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop", UID: "u1"}, Spec: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "init", Image: "busybox"}}, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
			tt.edit(v)
			h := &corev1.Pod{}
			for _, n := range tt.host {
				h.Spec.EphemeralContainers = append(h.Spec.EphemeralContainers, corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: n}})
			}
			o := testOptions
			o.Pods = tt.policy
			got, err := EphemeralToHost(v, h, o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "" && tt.check != nil:
				tt.check(t, got)
			case tt.want == "":
			case err == nil:
				t.Fatalf("allowed, want a refusal containing %q; got %+v", tt.want, got)
			case !translate.IsRefused(err) || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("err = %q, want a refusal containing %q", err, tt.want)
			case !slices.Equal(names(got), tt.added):
				t.Fatalf("added %v with the refusal, want %v", names(got), tt.added)
			}
		})
	}
}

// TestEphemeralToHostDisableChecks: with checks off (host-guard tests) containers are copied raw.
func TestEphemeralToHostDisableChecks(t *testing.T) {
	v := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}, Spec: corev1.PodSpec{EphemeralContainers: []corev1.EphemeralContainer{
		{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "d", SecurityContext: &corev1.SecurityContext{Privileged: new(true)}}}}}}
	o := testOptions
	o.DisableChecks = true
	got, err := EphemeralToHost(v, &corev1.Pod{}, o)
	if err != nil || len(got) != 1 || !*got[0].SecurityContext.Privileged {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func names(cs []corev1.EphemeralContainer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func envValue(env []corev1.EnvVar, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}
