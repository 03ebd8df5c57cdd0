package syncer_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/test/framework"
)

// TestHostQuotaRefusalBecomesEvent: a pod over the host namespace's ResourceQuota is not
// created and the quota's message shows up as a SyncError event on the virtual pod.
func TestHostQuotaRefusalBecomesEvent(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-quota", v1alpha1.PodPolicy{})
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "pods"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}}}
	if _, err := tn.h.CoreV1().ResourceQuotas(tn.hostNS).Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "quota status.hard", func() (bool, error) {
		q, err := tn.h.CoreV1().ResourceQuotas(tn.hostNS).Get(ctx, "pods", metav1.GetOptions{})
		return err == nil && len(q.Status.Hard) > 0, err
	})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, simplePod("first"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitHostPod(t, tn, "first", ns)
	if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, simplePod("second"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tn.v, ns, "second", "exceeded quota: pods")
}

var (
	templateGVR  = schema.GroupVersionResource{Group: "templates.gatekeeper.sh", Version: "v1", Resource: "constrainttemplates"}
	nodePortsGVR = schema.GroupVersionResource{Group: "constraints.gatekeeper.sh", Version: "v1beta1", Resource: "k8sblocknodeport"}
)

// TestGatekeeperRefusalBecomesEvent: a NodePort Service denied by a Gatekeeper constraint
// on the host namespace carries Gatekeeper's message to the virtual Service.
func TestGatekeeperRefusalBecomesEvent(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-gk", v1alpha1.PodPolicy{})
	blockNodePorts(t, tn.hostNS)
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "np"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort,
		Selector: map[string]string{"app": "x"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}}}}
	if _, err := tn.v.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, tn.v, ns, "np", "type NodePort is not allowed")
}

// blockNodePorts applies the library's K8sBlockNodePort template and a constraint scoped
// to ns, and waits until Gatekeeper denies a NodePort Service there.
func blockNodePorts(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(host.Config)
	templates, err := policy.Library()
	if err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range templates {
		if tmpl.GetName() == "k8sblocknodeport" {
			apply(t, dyn, templateGVR, tmpl)
		}
	}
	constraint := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sBlockNodePort",
		"metadata": map[string]any{"name": "block-nodeport-" + ns},
		"spec": map[string]any{"match": map[string]any{"scope": "Namespaced", "namespaces": []any{ns},
			"kinds": []any{map[string]any{"apiGroups": []any{""}, "kinds": []any{"Service"}}}}},
	}}
	framework.Eventually(t, 60*time.Second, "the constraint to apply", func() (bool, error) {
		return applyErr(dyn, nodePortsGVR, constraint) == nil, applyErr(dyn, nodePortsGVR, constraint)
	})
	t.Cleanup(func() { _ = dyn.Resource(nodePortsGVR).Delete(ctx, constraint.GetName(), metav1.DeleteOptions{}) })
	cs := host.Clientset(t)
	probe := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "probe"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort,
		Ports: []corev1.ServicePort{{Port: 80}}}}
	framework.Eventually(t, 60*time.Second, "Gatekeeper to deny NodePorts in "+ns, func() (bool, error) {
		_, err := cs.CoreV1().Services(ns).Create(ctx, probe, metav1.CreateOptions{})
		if err == nil {
			_ = cs.CoreV1().Services(ns).Delete(ctx, "probe", metav1.DeleteOptions{})
			return false, nil
		}
		return true, nil
	})
}

func apply(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) {
	t.Helper()
	if err := applyErr(dyn, gvr, obj); err != nil {
		t.Fatalf("applying %s: %v", obj.GetName(), err)
	}
}

func applyErr(dyn dynamic.Interface, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) error {
	data, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = dyn.Resource(gvr).Namespace(obj.GetNamespace()).Patch(context.Background(), obj.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "tenantry-test", Force: new(true)})
	return err
}
