package loader

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doc joins lines into a file, so that test inputs show their line numbers plainly.
func doc(lines ...string) string {
	return strings.Join(lines, "\n") + "\n"
}

// tenantDoc is a valid tenant file header (lines 1-5, "spec:" on line 5) followed by
// spec lines, which start on line 6.
func tenantDoc(name string, spec ...string) string {
	return doc(append([]string{
		"apiVersion: tenantry.dev/v1alpha1",
		"kind: Tenant",
		"metadata:",
		"  name: " + name,
		"spec:",
	}, spec...)...)
}

// writeRepo writes files (repo path -> content) under a new temporary directory.
func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// errorLines splits the text of errs into lines (nil for no errors).
func errorLines(errs FieldErrors) []string {
	if len(errs) == 0 {
		return nil
	}
	return strings.Split(errs.Error(), "\n")
}
