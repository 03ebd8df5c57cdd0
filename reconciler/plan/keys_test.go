package plan

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestInputKey: the key changes with anything the objects are rendered from (the tenant,
// its file's path, the render options, a template) and with nothing else.
func TestInputKey(t *testing.T) {
	base := func() (*v1alpha1.Tenant, render.DesiredOptions) {
		tn := tenantNamed("team-a")
		tn.Spec.Quota = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
		tpl := &unstructured.Unstructured{Object: map[string]any{"kind": "ConstraintTemplate", "spec": map[string]any{"v": "1"}}}
		return tn, render.DesiredOptions{Templates: map[string]*unstructured.Unstructured{"K8sAllowedRepos": tpl}}
	}
	key := func(tn *v1alpha1.Tenant, o render.DesiredOptions) string {
		t.Helper()
		rk, err := RenderKey(o)
		if err != nil {
			t.Fatal(err)
		}
		k, err := InputKey(rk, tn)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	tn, o := base()
	want := key(tn, o)
	tests := []struct {
		name    string
		change  func(*v1alpha1.Tenant, *render.DesiredOptions)
		changes bool
	}{
		{name: "nothing", change: func(*v1alpha1.Tenant, *render.DesiredOptions) {}},
		{name: "the same quantity spelled otherwise", change: func(tn *v1alpha1.Tenant, _ *render.DesiredOptions) {
			tn.Spec.Quota = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2000m")}
		}},
		{name: "the quota", changes: true, change: func(tn *v1alpha1.Tenant, _ *render.DesiredOptions) {
			tn.Spec.Quota = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")}
		}},
		{name: "the file's path", changes: true, change: func(tn *v1alpha1.Tenant, _ *render.DesiredOptions) {
			tn.Status.SourcePath = "tenants/moved.yaml"
		}},
		{name: "the virtual cluster image", changes: true, change: func(_ *v1alpha1.Tenant, o *render.DesiredOptions) {
			o.VCluster.ImageRepository = "elsewhere/vcluster"
		}},
		{name: "a template", changes: true, change: func(_ *v1alpha1.Tenant, o *render.DesiredOptions) {
			o.Templates["K8sAllowedRepos"].Object["spec"] = map[string]any{"v": "2"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn, o := base()
			tt.change(tn, &o)
			if changed := key(tn, o) != want; changed != tt.changes {
				t.Errorf("key changed: %v, want %v", changed, tt.changes)
			}
		})
	}
}

// TestRerender: the drift check's render stamps the objects as the pass applied them, and
// gives nothing when the status records other content.
func TestRerender(t *testing.T) {
	tn := tenantNamed("team-a")
	pass := &Pass{Revision: "main@sha1:1"}
	first := Decide(context.Background(), &fakeHost{}, pass, tn, &v1alpha1.TenantStatus{})
	st := &v1alpha1.TenantStatus{Inventory: first.Inventory(), ContentDigest: first.Content.Digest, ContentRevision: first.Content.Revision}
	objs, err := Rerender(&Pass{Revision: "main@sha1:9"}, tn, st)
	if err != nil || len(objs) != len(first.Objects) {
		t.Fatalf("rerender: %d objects, %v", len(objs), err)
	}
	for i, o := range objs {
		if got, want := o.GetAnnotations()[render.AnnotationCommit], first.Objects[i].GetAnnotations()[render.AnnotationCommit]; got != want {
			t.Errorf("%s stamped %s, applied as %s", o.GetKind(), got, want)
		}
	}
	st.ContentDigest = "sha256:other"
	if objs, err := Rerender(pass, tn, st); err != nil || objs != nil {
		t.Errorf("other content recorded: %d objects, %v; want none", len(objs), err)
	}
}
