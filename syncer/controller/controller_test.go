package controller

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantry/tenantry/syncer/configmaps"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// TestOtherOriginLeftAlone: a host object found under a virtual object's host name but
// recording another origin is neither updated nor deleted; the virtual object gets a SyncError.
func TestOtherOriginLeftAlone(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	tests := []struct {
		name, origin, kind string
		virtual            bool
		wantEvent          bool
	}{
		{name: "another name, virtual exists", origin: "other", kind: configmaps.Kind, virtual: true, wantEvent: true},
		{name: "another kind", origin: "cm", kind: "Secret", virtual: true, wantEvent: true},
		{name: "another name, virtual gone (no delete)", origin: "other", kind: configmaps.Kind},
		{name: "no origin at all", kind: configmaps.Kind, virtual: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: tr.Name("cm", "shop"), Namespace: tr.HostNamespace,
				Labels:      map[string]string{translate.LabelManagedBy: "team-a"},
				Annotations: map[string]string{translate.AnnotationName: tt.origin, translate.AnnotationNamespace: "shop", translate.AnnotationKind: tt.kind}},
				Data: map[string]string{"k": "host"}}
			if tt.origin == "" {
				h.Annotations = nil
			}
			virtual := fake.NewClientBuilder()
			if tt.virtual {
				virtual = virtual.WithObjects(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "shop", UID: "u1"}, Data: map[string]string{"k": "tenant"}})
			}
			vc, hc := virtual.Build(), fake.NewClientBuilder().WithObjects(h).Build()
			rec := record.NewFakeRecorder(10)
			sc := &synccontext.Context{Translator: tr, Virtual: vc, VirtualReader: vc, Host: hc, HostReader: hc, Recorder: rec}
			r := &reconciler{sc: sc, s: configmaps.Syncer{}}
			if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKey{Namespace: "shop", Name: "cm"}}); err != nil {
				t.Fatal(err)
			}
			var got corev1.ConfigMap
			if err := hc.Get(context.Background(), client.ObjectKeyFromObject(h), &got); err != nil || got.Data["k"] != "host" {
				t.Fatalf("host object changed or deleted: %+v, %v", got.Data, err)
			}
			select {
			case e := <-rec.Events:
				if !tt.wantEvent || !strings.Contains(e, "SyncError") {
					t.Errorf("event %q", e)
				}
			default:
				if tt.wantEvent {
					t.Error("no SyncError event")
				}
			}
		})
	}
}
