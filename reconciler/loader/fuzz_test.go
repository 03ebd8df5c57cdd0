package loader

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// FuzzParseTenant checks that ParseTenant never panics and returns either a tenant or
// located errors, that a tenant it accepts survives a round trip through YAML, and that
// defaulting an accepted tenant does not panic either.
func FuzzParseTenant(f *testing.F) {
	for _, pattern := range []string{"../../tenants-example/tenants/*.yaml", "../../tenants-example/*.yaml", "testdata/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), data)
		}
	}
	defaults, errs := ParseDefaults("defaults.yaml", readFileF(f, "../../tenants-example/defaults.yaml"))
	if errs != nil {
		f.Fatal(errs)
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		path := "tenants/" + name + ".yaml"
		tenant, errs := ParseTenant(path, data)
		checkErrors(t, path, data, errs)
		if (tenant == nil) == (len(errs) == 0) {
			t.Fatalf("got tenant %v and %d errors", tenant != nil, len(errs))
		}
		if tenant == nil {
			return
		}
		checkRoundTrip(t, path, tenant)
		checkErrors(t, path, data, parseAndFinish(path, data, defaults).c.result())
	})
}

func checkErrors(t *testing.T, path string, data []byte, errs FieldErrors) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, e := range errs {
		if e.Path != path || e.Line < 0 || e.Line > lines+1 || e.Msg == "" {
			t.Fatalf("bad error %#v (file has %d lines)", e, lines)
		}
	}
}

// checkRoundTrip writes an accepted tenant back as YAML and parses it again.
func checkRoundTrip(t *testing.T, path string, tenant *v1alpha1.Tenant) {
	t.Helper()
	file := struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata,omitempty"`
		Spec              v1alpha1.TenantSpec `json:"spec"`
	}{tenant.TypeMeta, tenant.ObjectMeta, tenant.Spec}
	data, err := yaml.Marshal(file)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	again, errs := ParseTenant(path, data)
	if errs != nil {
		t.Fatalf("the accepted tenant, written back, is invalid:\n%s\n%v", data, errs)
	}
	if !equality.Semantic.DeepEqual(tenant, again) {
		t.Fatalf("round trip changed the tenant:\n%s\n%+v\n%+v", data, tenant, again)
	}
}

func readFileF(f *testing.F, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}
