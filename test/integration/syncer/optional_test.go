package syncer_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/test/framework"
)

// TestOptionalKinds: with every spec.sync option on, host storage classes and the host
// nodes matching the selector appear in the virtual cluster, and ingresses and network
// policies reach the host with translated names and selectors.
func TestOptionalKinds(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-opt", v1alpha1.PodPolicy{})
	tn.cfg.Sync = v1alpha1.Sync{Ingresses: true, IngressHosts: []string{"web.example.com"}, NetworkPolicies: true, HostStorageClasses: true,
		Nodes: v1alpha1.SyncNodes{Enabled: true, NodeSelector: map[string]string{"pool": "team-opt"}}}
	grantClusterRead(t, "syncer-team-opt")
	createHostObjects(t, tn)
	tn.start(t)
	t.Run("storage class", func(t *testing.T) {
		framework.Eventually(t, 30*time.Second, "the host storage class in the virtual cluster", func() (bool, error) {
			sc, err := tn.v.StorageV1().StorageClasses().Get(ctx, "fast", metav1.GetOptions{})
			return err == nil && sc.Provisioner == "example.com/fast" && sc.Labels[wellknown.VClusterLabelManagedBy] == tn.name, err
		})
	})
	t.Run("matching host nodes only", func(t *testing.T) {
		framework.Eventually(t, 30*time.Second, "the selected host node in the virtual cluster", func() (bool, error) {
			_, err := tn.v.CoreV1().Nodes().Get(ctx, "pool-node", metav1.GetOptions{})
			return err == nil, err
		})
		if _, err := tn.v.CoreV1().Nodes().Get(ctx, hostNode, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("an unselected host node is in the virtual cluster: %v", err)
		}
	})
	ns := tn.virtual.NewNamespace(t)
	t.Run("ingress", func(t *testing.T) { checkIngress(t, tn, ns) })
	t.Run("network policy", func(t *testing.T) { checkNetworkPolicy(t, tn, ns) })
}

func createHostObjects(t *testing.T, tn *tenant) {
	t.Helper()
	ctx := context.Background()
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Provisioner: "example.com/fast"}
	if _, err := tn.h.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tn.h.StorageV1().StorageClasses().Delete(ctx, "fast", metav1.DeleteOptions{}) })
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "pool-node", Labels: map[string]string{"pool": "team-opt"}}}
	if _, err := tn.h.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tn.h.CoreV1().Nodes().Delete(ctx, "pool-node", metav1.DeleteOptions{}) })
}

// grantClusterRead lets user read host nodes and storage classes: what spec.sync.nodes
// and spec.sync.hostStorageClasses need beyond the namespaced Role.
func grantClusterRead(t *testing.T, user string) {
	t.Helper()
	ctx := context.Background()
	cs := host.Clientset(t)
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user + "-read"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"storage.k8s.io"}, Resources: []string{"storageclasses"}, Verbs: []string{"get", "list", "watch"}},
	}}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user + "-read"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, binding.Name, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, role.Name, metav1.DeleteOptions{})
	})
}

func checkIngress(t *testing.T, tn *tenant, ns string) {
	ctx := context.Background()
	cert := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "cert"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": []byte("c"), "tls.key": []byte("k")}}
	if _, err := tn.v.CoreV1().Secrets(ns).Create(ctx, cert, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prefix := networkingv1.PathTypePrefix
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: networkingv1.IngressSpec{
		TLS: []networkingv1.IngressTLS{{Hosts: []string{"web.example.com"}, SecretName: "cert"}},
		Rules: []networkingv1.IngressRule{{Host: "web.example.com", IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web",
					Port: networkingv1.ServiceBackendPort{Number: 80}}}}}}}}}}}
	if _, err := tn.v.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the host ingress and its TLS secret", func() (bool, error) {
		h, err := tn.h.NetworkingV1().Ingresses(tn.hostNS).Get(ctx, tn.hostName("web", ns), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if h.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name != tn.hostName("web", ns) || h.Spec.TLS[0].SecretName != tn.hostName("cert", ns) {
			t.Fatalf("host ingress not translated: %+v", h.Spec)
		}
		_, err = tn.h.CoreV1().Secrets(tn.hostNS).Get(ctx, tn.hostName("cert", ns), metav1.GetOptions{})
		return err == nil, err
	})
}

func checkNetworkPolicy(t *testing.T, tn *tenant, ns string) {
	ctx := context.Background()
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: networkingv1.NetworkPolicySpec{
		PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
			{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "fe"}}},
			{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "kube-system"}}},
		}}},
	}}
	if _, err := tn.v.NetworkingV1().NetworkPolicies(ns).Create(ctx, np, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var h *networkingv1.NetworkPolicy
	framework.Eventually(t, 30*time.Second, "the host network policy", func() (bool, error) {
		var err error
		h, err = tn.h.NetworkingV1().NetworkPolicies(tn.hostNS).Get(ctx, tn.hostName("web", ns), metav1.GetOptions{})
		return err == nil, err
	})
	if h.Spec.PodSelector.MatchLabels[wellknown.VClusterLabelNamespace] != ns || h.Spec.PodSelector.MatchLabels[wellknown.VClusterLabelManagedBy] != tn.name {
		t.Errorf("host pod selector %v", h.Spec.PodSelector)
	}
	from := h.Spec.Ingress[0].From
	if from[0].PodSelector.MatchLabels[wellknown.VClusterLabelNamespace] != ns || from[0].NamespaceSelector != nil {
		t.Errorf("same-namespace peer %+v", from[0])
	}
	if from[1].NamespaceSelector != nil || len(from[1].PodSelector.MatchExpressions) != 1 ||
		from[1].PodSelector.MatchExpressions[0].Values[0] != "kube-system" {
		t.Errorf("namespace peer %+v", from[1])
	}
}
