package charts_test

import (
	"io/fs"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/tenantry/tenantry/api/podtokens"
	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/charts"
	"github.com/tenantry/tenantry/controlplane"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestConfigMapIsControlPlaneConfig decodes the rendered vcluster.yaml strictly into
// controlplane.Config, so a field name out of step with controlplane/config.go fails.
func TestConfigMapIsControlPlaneConfig(t *testing.T) {
	tn := tenant(func(tn *v1alpha1.Tenant) {
		tn.Spec.Namespace = "custom-ns"
		tn.Spec.Expose = v1alpha1.Expose{Type: "Ingress", Host: "x.example.com"}
		tn.Spec.Pods = v1alpha1.PodPolicy{AllowHostPath: true, NodeSelector: map[string]string{"pool": "a"}}
		tn.Spec.Sync = v1alpha1.Sync{Ingresses: true, Nodes: v1alpha1.SyncNodes{Enabled: true}}
		tn.Spec.Datastore = &v1alpha1.Datastore{Type: v1alpha1.DatastorePostgres, SecretRef: &v1alpha1.SecretKeyRef{Name: "team-db"}}
	})
	tokens := podtokens.Tokens{ExpirationSeconds: 900, RefreshSeconds: 60}
	objs, err := render.VCluster(tn, render.VClusterOptions{ServiceCIDR: "10.96.0.0/16", Tokens: tokens})
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedString(find(objs, "ConfigMap").Object, "data", "vcluster.yaml")
	var cfg controlplane.Config
	if err := yaml.UnmarshalStrict([]byte(data), &cfg); err != nil {
		t.Fatalf("vcluster.yaml is not a controlplane.Config: %v\n%s", err, data)
	}
	want := controlplane.Config{
		Name: "team-x", HostNamespace: "custom-ns", DataDir: "/data", BinDir: "/usr/local/bin",
		APIPort: 6443, DNSPort: 1053, ProbePort: 8080, ServiceCIDR: "10.96.0.0/16",
		ServiceName: "vc-team-x", ExternalHosts: []string{"x.example.com"}, KubeconfigSecret: "vc-team-x-kubeconfig",
		Owners: tn.Spec.Owners, Pods: tn.Spec.Pods, Sync: tn.Spec.Sync, DatastoreType: v1alpha1.DatastorePostgres, Tokens: tokens,
	}
	gotY, _ := yaml.Marshal(cfg)
	wantY, _ := yaml.Marshal(want)
	if string(gotY) != string(wantY) {
		t.Fatalf("config:\n%s\nwant:\n%s", gotY, wantY)
	}
	requireDatastoreFromSecret(t, objs, "team-db", "endpoint")
}

// requireDatastoreFromSecret checks that the control-plane container reads the connection
// string from the named Secret key, in controlplane.DatastoreEnv.
func requireDatastoreFromSecret(t *testing.T, objs []*unstructured.Unstructured, name, key string) {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(find(objs, "StatefulSet").Object, "spec", "template", "spec", "containers")
	env, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "env")
	for _, e := range env {
		e := e.(map[string]any)
		if e["name"] != controlplane.DatastoreEnv {
			continue
		}
		ref, _, _ := unstructured.NestedStringMap(e, "valueFrom", "secretKeyRef")
		if ref["name"] != name || ref["key"] != key || e["value"] != nil {
			t.Fatalf("%s: %v, want from Secret %s key %s", controlplane.DatastoreEnv, e, name, key)
		}
		return
	}
	t.Fatalf("the control-plane container has no %s: %v", controlplane.DatastoreEnv, env)
}

// TestControlPlaneResourcesAreTheAPIs: the chart's default resources (for `helm install`
// of charts/vcluster alone) are v1alpha1.ControlPlaneResources, which the agent renders and
// the loader checks tenants against: one figure.
func TestControlPlaneResourcesAreTheAPIs(t *testing.T) {
	data, err := fs.ReadFile(charts.FS(), "vcluster/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		Resources corev1.ResourceRequirements `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	want := v1alpha1.ControlPlaneResources
	for _, pair := range [][2]corev1.ResourceList{{values.Resources.Requests, want.Requests}, {values.Resources.Limits, want.Limits}} {
		got, exp := pair[0], pair[1]
		if len(got) != len(exp) {
			t.Fatalf("charts/vcluster/values.yaml resources %v, want v1alpha1.ControlPlaneResources %v", values.Resources, want)
		}
		for name, q := range exp {
			if g := got[name]; g.Cmp(q) != 0 {
				t.Fatalf("charts/vcluster/values.yaml %s = %s, want %s (v1alpha1.ControlPlaneResources)", name, g.String(), q.String())
			}
		}
	}
}
