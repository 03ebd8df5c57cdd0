package syncer_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/policy/guards"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestAttacksRefusedByHostGuardsAlone runs the host-class attacks again with the syncer
// copying raw (its own checks off, as if it had a bug): the host's guards, installed and
// parameterised exactly as the agent does it, must refuse every one, and nothing may
// change on the host.
func TestAttacksRefusedByHostGuardsAlone(t *testing.T) {
	runAttacks(t, attackCases(), true)
}

// guardTenant makes tn's host namespace a tenant namespace as the agent renders it (owner
// labels, Pod Security level and the guards' annotations from the same tenant spec), applies
// the host guards, and runs the syncer as a ServiceAccount of that namespace, the identity
// the guards are scoped to (the chart runs it as vc-<tenant>).
func guardTenant(t *testing.T, tn *tenant) {
	t.Helper()
	applyGuards(t)
	spec := v1alpha1.TenantSpec{Namespace: tn.hostNS, Pods: tn.cfg.Pods, Sync: tn.cfg.Sync}
	objs, err := render.Tenant(&v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tn.name}, Spec: spec}, render.HostAPI{})
	if err != nil {
		t.Fatal(err)
	}
	render.Label(objs, tn.name, "tenants/"+tn.name+".yaml", "test")
	ns := objs[0]
	if ns.GetKind() != "Namespace" {
		t.Fatalf("render.Tenant's first object is a %s, want the Namespace", ns.GetKind())
	}
	patch, err := ns.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	force := true
	if _, err := host.Clientset(t).CoreV1().Namespaces().Patch(context.Background(), tn.hostNS, types.ApplyPatchType, patch,
		metav1.PatchOptions{FieldManager: "tenantry", Force: &force}); err != nil {
		t.Fatalf("labelling %s as a tenant namespace: %v", tn.hostNS, err)
	}
	user := "system:serviceaccount:" + tn.hostNS + ":vc-" + tn.name
	cfg, err := host.ConfigFor(user, "system:serviceaccounts", "system:serviceaccounts:"+tn.hostNS)
	if err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "syncer-sa"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "syncer"}, // newTenant's Role
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	if _, err := host.Clientset(t).RbacV1().RoleBindings(tn.hostNS).Create(context.Background(), binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("binding the syncer's Role to %s: %v", user, err)
	}
	tn.cfg.Host = cfg
	waitGuardsEnforced(t, cfg, tn.hostNS)
}

// waitGuardsEnforced waits until the API server enforces the new policies (it loads them
// within about a second): a dry-run Service with externalIPs, as the syncer, is refused.
func waitGuardsEnforced(t *testing.T, cfg *rest.Config, ns string) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cfg)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "guard-probe"}, Spec: corev1.ServiceSpec{
		ExternalIPs: []string{"203.0.113.1"}, Ports: []corev1.ServicePort{{Port: 80}}}}
	waitHost(t, "the host guards to be enforced", func() error {
		_, err := cs.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			return errors.New("a Service with externalIPs was admitted")
		}
		if !strings.Contains(err.Error(), "tenantry-guard-services") {
			return err
		}
		return nil
	})
}

// applyGuards server-side applies the host guards (policy/guards) as the agent does.
func applyGuards(t *testing.T) {
	t.Helper()
	objs, err := guards.Objects()
	if err != nil {
		t.Fatal(err)
	}
	dc := memory.NewMemCacheClient(host.Clientset(t).Discovery())
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(dc)
	dyn := dynamic.NewForConfigOrDie(host.Config)
	force := true
	for _, o := range objs {
		applyOne(t, dyn, mapper, o, &force)
	}
}

func applyOne(t *testing.T, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, o *unstructured.Unstructured, force *bool) {
	t.Helper()
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("mapping %s: %v", gvk, err)
	}
	data, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(m.Resource).Patch(context.Background(), o.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "tenantry", Force: force}); err != nil {
		t.Fatalf("applying %s %s: %v", gvk.Kind, o.GetName(), err)
	}
}
