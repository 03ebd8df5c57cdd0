package agent_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tenantry/tenantry/policy/guards"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// syncerClient is a client authenticated as tenant's syncer (ServiceAccount vc-<tenant>
// in its namespace), bound to cluster-admin in that namespace: RBAC allows everything
// there, so every refusal below comes from the host guards.
func syncerClient(t *testing.T, tenant string) kubernetes.Interface {
	t.Helper()
	ns, sa := "tenant-"+tenant, "vc-"+tenant
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "hostile-syncer-admin", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}}}
	if _, err := host.Clientset(t).RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := host.ConfigFor("system:serviceaccount:"+ns+":"+sa, "system:serviceaccounts", "system:serviceaccounts:"+ns)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "RBAC for "+sa, func() (bool, error) {
		_, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, render.QuotaName, metav1.GetOptions{})
		return err == nil, nil
	})
	return cs
}

// hostilePod is a pod as the syncer writes it (automount off, token in a Secret volume,
// the syncer's labels), changed by mutate.
func hostilePod(name string, mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: synced(name), Spec: corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false),
		Containers:                   []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}},
		Volumes: []corev1.Volume{{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: name + ".token"}}}},
	}}
	if mutate != nil {
		mutate(p)
	}
	return p
}

// synced is the metadata the syncer puts on a host object.
func synced(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name,
		Labels:      map[string]string{"vcluster.tenantry.dev/managed-by": "x", "vcluster.tenantry.dev/namespace": "default"},
		Annotations: map[string]string{"vcluster.tenantry.dev/object-name": name, "vcluster.tenantry.dev/object-namespace": "default"}}
}

func createNetpol(c kubernetes.Interface, ns, name string, rule networkingv1.NetworkPolicyEgressRule) error {
	_, err := c.NetworkingV1().NetworkPolicies(ns).Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: synced(name),
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{rule}}}, metav1.CreateOptions{})
	return err
}

func createIngress(c kubernetes.Interface, ns, name, host string, annotations map[string]string) error {
	m := synced(name)
	for k, v := range annotations {
		m.Annotations[k] = v
	}
	prefix := networkingv1.PathTypePrefix
	_, err := c.NetworkingV1().Ingresses(ns).Create(ctx, &networkingv1.Ingress{ObjectMeta: m, Spec: networkingv1.IngressSpec{
		Rules: []networkingv1.IngressRule{{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}, metav1.CreateOptions{})
	return err
}

func resourceMust(s string) resource.Quantity { return resource.MustParse(s) }

var vapGVR = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}

// checkGuardsInstalled checks that the agent applied every guard and its binding, and
// that kube-apiserver's type check of the expressions against the real schemas found
// nothing (status.typeChecking, written by kube-controller-manager).
func checkGuardsInstalled(t *testing.T, e *env) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(host.Config)
	for _, name := range guards.Names() {
		if _, err := e.cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Fatalf("binding %s: %v", name, err)
		}
		var p *unstructured.Unstructured
		eventually(t, "the type check of "+name, func() (bool, error) {
			var err error
			p, err = dyn.Resource(vapGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			gen, _, _ := unstructured.NestedInt64(p.Object, "status", "observedGeneration")
			return gen == p.GetGeneration(), nil
		})
		if w, _, _ := unstructured.NestedSlice(p.Object, "status", "typeChecking", "expressionWarnings"); len(w) > 0 {
			t.Errorf("%s: type-check warnings: %v", name, w)
		}
		if p.GetLabels()[render.LabelManagedBy] != render.ManagedByValue {
			t.Errorf("%s labels %v", name, p.GetLabels())
		}
	}
}

// checkGuardParameters checks the Namespaces carry the tenant files' allowances, and
// only those.
func checkGuardParameters(t *testing.T, e *env) {
	t.Helper()
	for ns, want := range map[string]map[string]string{
		"tenant-guard-a": {"pod-security.kubernetes.io/enforce": "baseline"},
		"tenant-guard-hp": {"pod-security.kubernetes.io/enforce": "privileged", guards.AnnotationAllowHostPath: "true", guards.AnnotationIngressHosts: "shop.guard-hp.example.com,*.guard-hp.example.com",
			guards.AnnotationTolerations: "dedicated=tenants:NoSchedule"},
	} {
		n, err := e.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if got := n.Labels[k] + n.Annotations[k]; got != v {
				t.Errorf("%s: %s = %q, want %q", ns, k, got, v)
			}
		}
		for k := range n.Annotations {
			if strings.HasPrefix(k, "tenantry.dev/allow-") && want[k] == "" {
				t.Errorf("%s: unexpected allowance %s", ns, k)
			}
		}
	}
}

// checkAdmitted checks that ordinary synced objects, and what the tenant file allows, are
// admitted.
func checkAdmitted(t *testing.T, plain, hp kubernetes.Interface) {
	t.Helper()
	if _, err := plain.CoreV1().Pods("tenant-guard-a").Create(ctx, hostilePod("baseline", nil), metav1.CreateOptions{}); err != nil {
		t.Errorf("a baseline pod was refused: %v", err)
	}
	withHostPath := hostilePod("host-path", func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}})
	})
	if _, err := hp.CoreV1().Pods("tenant-guard-hp").Create(ctx, withHostPath, metav1.CreateOptions{}); err != nil {
		t.Errorf("allowHostPath: a hostPath pod was refused: %v", err)
	}
	granted := hostilePod("granted-toleration", func(p *corev1.Pod) {
		p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "tenants", Effect: corev1.TaintEffectNoSchedule}}
	})
	if _, err := hp.CoreV1().Pods("tenant-guard-hp").Create(ctx, granted, metav1.CreateOptions{}); err != nil {
		t.Errorf("a toleration the tenant file grants was refused: %v", err)
	}
	if err := createIngress(hp, "tenant-guard-hp", "own-host", "app.guard-hp.example.com", map[string]string{"nginx.ingress.kubernetes.io/rewrite-target": "/"}); err != nil {
		t.Errorf("an ingress on the tenant's own host was refused: %v", err)
	}
	if err := createNetpol(hp, "tenant-guard-hp", "same-namespace", networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}); err != nil {
		t.Errorf("a same-namespace network policy was refused: %v", err)
	}
	kc := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vc-guard-hp-kubeconfig", Labels: map[string]string{
		render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: "guard-hp", "app.kubernetes.io/component": "vcluster-kubeconfig"}}, Type: corev1.SecretTypeOpaque}
	if _, err := hp.CoreV1().Secrets("tenant-guard-hp").Create(ctx, kc, metav1.CreateOptions{}); err != nil {
		t.Errorf("the control plane's kubeconfig Secret was refused: %v", err)
	}
}

// checkAgentUnaffected checks that the agent still applies its own objects in the guarded
// namespaces: a quota change in Git reaches the host.
func checkAgentUnaffected(t *testing.T, e *env) {
	t.Helper()
	e.Write("guard-hp", framework.TenantYAML("guard-hp", framework.Pods("30"), framework.Spec(guardHPPods, "  sync:\n    ingresses: true\n    ingressHosts: [shop.guard-hp.example.com, \"*.guard-hp.example.com\"]")))
	if res := e.CommitAndSync("raise guard-hp's quota"); res.Failed() {
		t.Fatalf("pass failed: %+v", res)
	}
	e.RequireReady("guard-a", "guard-hp")
	q, err := e.cs.CoreV1().ResourceQuotas("tenant-guard-hp").Get(ctx, render.QuotaName, metav1.GetOptions{})
	if err != nil || q.Spec.Hard.Pods().String() != "30" {
		t.Fatalf("the agent's quota change: %v, %v", q.Spec.Hard, err)
	}
}
