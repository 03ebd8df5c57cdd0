package render_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestRenderExampleTenants renders every tenant of tenants-example/ and compares the
// objects with golden files. UPDATE_GOLDEN=1 rewrites them.
func TestRenderExampleTenants(t *testing.T) {
	repo, err := loader.Load("../../tenants-example")
	if err != nil {
		t.Fatal(err)
	}
	if len(repo.Tenants) == 0 || len(repo.Failed) > 0 {
		t.Fatalf("example repo: %d tenants, failed %+v", len(repo.Tenants), repo.Failed)
	}
	for _, tn := range repo.Tenants {
		t.Run(tn.Name, func(t *testing.T) {
			objs, err := render.Tenant(tn, exampleHostAPI)
			if err != nil {
				t.Fatal(err)
			}
			render.Label(objs, tn.Name, tn.Status.SourcePath, "main@sha1:0000000000000000000000000000000000000000")
			var buf bytes.Buffer
			for _, o := range objs {
				data, err := yaml.Marshal(o.Object)
				if err != nil {
					t.Fatal(err)
				}
				buf.WriteString("---\n")
				buf.Write(data)
			}
			golden := filepath.Join("testdata", tn.Name+".golden.yaml")
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
			}
			if !bytes.Equal(want, buf.Bytes()) {
				t.Fatalf("rendered objects differ from %s (UPDATE_GOLDEN=1 to accept):\n%s", golden, buf.String())
			}
		})
	}
}

func TestIsolationNoneRendersNoNetworkPolicies(t *testing.T) {
	repo, err := loader.Load("../../tenants-example")
	if err != nil {
		t.Fatal(err)
	}
	tn := repo.Tenants[0]
	tests := []struct {
		isolation string
		want      int
	}{{"Isolated", 4}, {"None", 0}}
	for _, tt := range tests {
		tn.Spec.Network.Isolation = v1alpha1.Isolation(tt.isolation)
		objs, err := render.Tenant(tn, render.HostAPI{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range objs {
			if o.GetKind() == "NetworkPolicy" {
				n++
			}
		}
		if n != tt.want {
			t.Errorf("isolation %s: %d network policies, want %d", tt.isolation, n, tt.want)
		}
	}
}

// TestPodSecurityFollowsThePodPolicy: the namespace enforces baseline unless the tenant
// file allows what baseline forbids, or the host would refuse what the syncer lets through.
func TestPodSecurityFollowsThePodPolicy(t *testing.T) {
	tests := []struct {
		name string
		pods v1alpha1.PodPolicy
		want string
	}{
		{"nothing allowed", v1alpha1.PodPolicy{}, "baseline"},
		{"host path", v1alpha1.PodPolicy{AllowHostPath: true}, "privileged"},
		{"host network", v1alpha1.PodPolicy{AllowHostNetwork: true}, "privileged"},
		{"host PID", v1alpha1.PodPolicy{AllowHostPID: true}, "privileged"},
		{"privileged", v1alpha1.PodPolicy{AllowPrivileged: true}, "privileged"},
		{"node selector only", v1alpha1.PodPolicy{NodeSelector: map[string]string{"pool": "a"}}, "baseline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := &v1alpha1.Tenant{}
			tn.Name = "a"
			tn.Spec.Pods = tt.pods
			objs, err := render.Tenant(tn, render.HostAPI{})
			if err != nil {
				t.Fatal(err)
			}
			if got := objs[0].GetLabels()["pod-security.kubernetes.io/enforce"]; objs[0].GetKind() != "Namespace" || got != tt.want {
				t.Fatalf("%s enforce = %q, want %q", objs[0].GetKind(), got, tt.want)
			}
		})
	}
}
