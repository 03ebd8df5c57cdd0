package render_test

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestNamespaceGuardParameters checks the Pod Security level and the annotations the host
// guards read: only the allowances that are on, so allowHostPath allows host paths alone.
func TestNamespaceGuardParameters(t *testing.T) {
	for _, tc := range []struct {
		name    string
		spec    v1alpha1.TenantSpec
		enforce string
		ann     map[string]string
	}{
		{name: "nothing allowed", enforce: "baseline"},
		{name: "host path", spec: v1alpha1.TenantSpec{Pods: v1alpha1.PodPolicy{AllowHostPath: true}}, enforce: "privileged",
			ann: map[string]string{"tenantry.dev/allow-host-path": "true"}},
		{name: "network and pid", spec: v1alpha1.TenantSpec{Pods: v1alpha1.PodPolicy{AllowHostNetwork: true, AllowHostPID: true}}, enforce: "privileged",
			ann: map[string]string{"tenantry.dev/allow-host-network": "true", "tenantry.dev/allow-host-pid": "true"}},
		{name: "privileged", spec: v1alpha1.TenantSpec{Pods: v1alpha1.PodPolicy{AllowPrivileged: true}}, enforce: "privileged",
			ann: map[string]string{"tenantry.dev/allow-privileged": "true"}},
		{name: "ingress hosts", spec: v1alpha1.TenantSpec{Sync: v1alpha1.Sync{IngressHosts: []string{"a.example.com", "*.team-a.example.com"}}},
			enforce: "baseline", ann: map[string]string{"tenantry.dev/ingress-hosts": "a.example.com,*.team-a.example.com"}},
		{name: "tolerations", spec: v1alpha1.TenantSpec{Pods: v1alpha1.PodPolicy{Tolerations: []corev1.Toleration{
			{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "tenants", Effect: corev1.TaintEffectNoSchedule},
			{Key: "gpu", Operator: corev1.TolerationOpExists}}}},
			enforce: "baseline", ann: map[string]string{"tenantry.dev/tolerations": "dedicated=tenants:NoSchedule,gpu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := &v1alpha1.Tenant{Spec: tc.spec}
			tn.Name = "team-a"
			objs, err := render.Tenant(tn, render.HostAPI{})
			if err != nil {
				t.Fatal(err)
			}
			ns := objs[0]
			if ns.GetKind() != "Namespace" {
				t.Fatalf("first object is %s", ns.GetKind())
			}
			if got := ns.GetLabels()["pod-security.kubernetes.io/enforce"]; got != tc.enforce {
				t.Errorf("enforce = %q, want %q", got, tc.enforce)
			}
			if got := ns.GetAnnotations(); !maps.Equal(got, tc.ann) {
				t.Errorf("annotations = %v, want %v", got, tc.ann)
			}
		})
	}
}
