package render_test

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestAPIExposurePolicy checks that an isolated tenant exposed outside the host lets the
// exposure path reach its API server's port, and only that port of its control-plane pod.
func TestAPIExposurePolicy(t *testing.T) {
	for _, tc := range []struct {
		expose    string
		isolation v1alpha1.Isolation
		want      bool
	}{
		{expose: "", want: false},
		{expose: "ClusterIP", want: false},
		{expose: "NodePort", want: true},
		{expose: "LoadBalancer", want: true},
		{expose: "Ingress", want: true},
		{expose: "NodePort", isolation: v1alpha1.IsolationNone, want: false}, // nothing is isolated
	} {
		t.Run(tc.expose+string(tc.isolation), func(t *testing.T) {
			tn := &v1alpha1.Tenant{}
			tn.Name = "team-x"
			tn.Spec.Expose.Type, tn.Spec.Network.Isolation = tc.expose, tc.isolation
			objs, err := render.Tenant(tn, render.HostAPI{})
			if err != nil {
				t.Fatal(err)
			}
			var np *networkingv1.NetworkPolicy
			for _, o := range objs {
				if o.GetKind() == "NetworkPolicy" && o.GetName() == "tenantry-allow-api-exposure" {
					np = &networkingv1.NetworkPolicy{}
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, np); err != nil {
						t.Fatal(err)
					}
				}
			}
			if (np != nil) != tc.want {
				t.Fatalf("exposure policy rendered: %v, want %v", np != nil, tc.want)
			}
			if np == nil {
				return
			}
			sel := np.Spec.PodSelector.MatchLabels
			if len(sel) != 1 || sel[wellknown.VClusterLabelControlPlane] != "team-x" || len(np.Spec.PodSelector.MatchExpressions) != 0 {
				t.Errorf("selects %v, want the control-plane pod only", np.Spec.PodSelector)
			}
			in := np.Spec.Ingress
			if len(np.Spec.Egress) != 0 || len(in) != 1 || len(in[0].Ports) != 1 || in[0].Ports[0].Port.IntValue() != wellknown.VClusterAPIPort ||
				len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
				t.Errorf("allows %+v, want ingress to port %d only", np.Spec, wellknown.VClusterAPIPort)
			}
		})
	}
}

// TestDatastoreEgressPolicy: only a tenant with an external datastore lets its control-plane
// pod (and no other) out.
func TestDatastoreEgressPolicy(t *testing.T) {
	for _, tc := range []struct {
		name string
		ds   *v1alpha1.Datastore
		want bool
	}{
		{name: "none"},
		{name: "SQLite", ds: &v1alpha1.Datastore{Type: v1alpha1.DatastoreSQLite}},
		{name: "Postgres", ds: &v1alpha1.Datastore{Type: v1alpha1.DatastorePostgres, SecretRef: &v1alpha1.SecretKeyRef{Name: "db"}}, want: true},
		{name: "MySQL", ds: &v1alpha1.Datastore{Type: v1alpha1.DatastoreMySQL, SecretRef: &v1alpha1.SecretKeyRef{Name: "db"}}, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := &v1alpha1.Tenant{}
			tn.Name, tn.Spec.Datastore = "team-x", tc.ds
			objs, err := render.Tenant(tn, render.HostAPI{})
			if err != nil {
				t.Fatal(err)
			}
			var sel map[string]any
			for _, o := range objs {
				if o.GetKind() == "NetworkPolicy" && o.GetName() == "tenantry-allow-datastore" {
					sel, _, _ = unstructured.NestedMap(o.Object, "spec", "podSelector", "matchLabels")
				}
			}
			if (sel != nil) != tc.want {
				t.Fatalf("datastore egress rendered: %v, want %v", sel != nil, tc.want)
			}
			if sel != nil && (len(sel) != 1 || sel[wellknown.VClusterLabelControlPlane] != "team-x") {
				t.Fatalf("selects %v, want the control-plane pod only", sel)
			}
		})
	}
}
