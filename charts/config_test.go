package charts_test

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
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
	})
	objs, err := render.VCluster(tn, render.VClusterOptions{ServiceCIDR: "10.96.0.0/16"})
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
		Owners: tn.Spec.Owners, Pods: tn.Spec.Pods, Sync: tn.Spec.Sync,
	}
	gotY, _ := yaml.Marshal(cfg)
	wantY, _ := yaml.Marshal(want)
	if string(gotY) != string(wantY) {
		t.Fatalf("config:\n%s\nwant:\n%s", gotY, wantY)
	}
}
