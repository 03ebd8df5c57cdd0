package charts_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/charts"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// TestGolden renders both charts with their default values, the tenantry chart with every
// ci/*.yaml values file, and the vcluster chart for every example tenant (built by
// render.VClusterValues), and compares with testdata/golden/. UPDATE_GOLDEN=1 rewrites.
func TestGolden(t *testing.T) {
	cases := map[string]func(*testing.T) []*unstructured.Unstructured{
		"vcluster-defaults": func(t *testing.T) []*unstructured.Unstructured {
			return mustRender(t, charts.VCluster, charts.Release{Name: "example", Namespace: "tenant-example"}, nil)
		},
		"tenantry-defaults": func(t *testing.T) []*unstructured.Unstructured {
			return mustRender(t, charts.Tenantry, charts.Release{Name: "tenantry", Namespace: "tenantry-system"}, nil)
		},
	}
	ciFiles, _ := filepath.Glob("tenantry/ci/*.yaml")
	for _, f := range ciFiles {
		cases["tenantry-"+strings.TrimSuffix(filepath.Base(f), ".yaml")] = func(t *testing.T) []*unstructured.Unstructured {
			var values map[string]any
			if err := yaml.Unmarshal(readFile(t, f), &values); err != nil {
				t.Fatal(err)
			}
			return mustRender(t, charts.Tenantry, charts.Release{Name: "tenantry", Namespace: "tenantry-system"}, values)
		}
	}
	for _, tn := range exampleTenants(t) {
		cases["vcluster-"+tn.Name] = func(t *testing.T) []*unstructured.Unstructured {
			objs, err := render.VCluster(tn, render.VClusterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return objs
		}
	}
	if len(cases) < 9 {
		t.Fatalf("only %d cases: examples or ci values went missing", len(cases))
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			compareGolden(t, filepath.Join("testdata", "golden", name+".yaml"), marshalAll(t, build(t)))
		})
	}
}

// exampleTenants loads tenants-example/ and testdata/tenants-repo/ with the loader, as the agent does.
func exampleTenants(t *testing.T) []*v1alpha1.Tenant {
	t.Helper()
	var out []*v1alpha1.Tenant
	for _, dir := range []string{"../tenants-example", "testdata/tenants-repo"} {
		repo, err := loader.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(repo.Failed) > 0 {
			t.Fatalf("%s: invalid tenants: %+v", dir, repo.Failed)
		}
		out = append(out, repo.Tenants...)
	}
	return out
}

func mustRender(t *testing.T, name string, rel charts.Release, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := charts.Render(name, rel, values)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatal("no objects rendered")
	}
	return objs
}

func marshalAll(t *testing.T, objs []*unstructured.Unstructured) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.Bytes()
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (UPDATE_GOLDEN=1 rewrites it):\n--- got\n%s", path, got)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRenderIsDeterministic renders the same values twice and expects the same bytes.
func TestRenderIsDeterministic(t *testing.T) {
	for _, name := range []string{charts.VCluster, charts.Tenantry} {
		rel := charts.Release{Name: "a", Namespace: "b"}
		first := marshalAll(t, mustRender(t, name, rel, nil))
		for range 5 {
			if again := marshalAll(t, mustRender(t, name, rel, nil)); !bytes.Equal(first, again) {
				t.Fatalf("%s: two renderings differ", name)
			}
		}
	}
}

// TestCRDCopyMatchesAPI fails when charts/tenantry/crds/ and api/v1alpha1/crd.yaml differ.
func TestCRDCopyMatchesAPI(t *testing.T) {
	got := readFile(t, "tenantry/crds/tenants.tenantry.dev.yaml")
	if !bytes.Equal(got, v1alpha1.CRD) {
		t.Fatal("charts/tenantry/crds/tenants.tenantry.dev.yaml differs from api/v1alpha1/crd.yaml: cp api/v1alpha1/crd.yaml charts/tenantry/crds/tenants.tenantry.dev.yaml")
	}
}
