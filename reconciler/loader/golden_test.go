package loader

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestGolden runs each testdata/*.yaml as a tenant file, with testdata/defaults as the
// repo defaults, and compares the result with testdata/*.golden: the errors, or the
// tenant as loaded. Set UPDATE_GOLDEN=1 to rewrite the golden files.
func TestGolden(t *testing.T) {
	defaults, errs := ParseDefaults("defaults.yaml", readFile(t, "testdata/defaults/defaults.yaml"))
	if errs != nil {
		t.Fatal(errs)
	}
	inputs, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".yaml")
		t.Run(name, func(t *testing.T) {
			p := parseAndFinish("tenants/"+filepath.Base(input), readFile(t, input), defaults)
			got := goldenOutput(t, p)
			compareGolden(t, strings.TrimSuffix(input, ".yaml")+".golden", got)
		})
	}
}

func goldenOutput(t *testing.T, p *parsedTenant) []byte {
	if errs := p.c.result(); errs != nil {
		return []byte("# errors\n" + errs.Error() + "\n")
	}
	out, err := yaml.Marshal(p.tenant)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("# tenant\n"), out...)
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (UPDATE_GOLDEN=1 rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
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
