package policy

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

const templatesDir = "templates"

// TestSuites runs the gator suite of every template in the library and
// enforces that each template has one, with allowed and disallowed cases.
func TestSuites(t *testing.T) {
	entries, err := os.ReadDir(templatesDir)
	if err != nil {
		t.Fatal(err)
	}
	dirs := 0
	for _, entry := range entries {
		if !entry.IsDir() {
			continue
		}
		dirs++
		dir := filepath.Join(templatesDir, entry.Name())
		t.Run(entry.Name(), func(t *testing.T) {
			checkSuiteFiles(t, dir)
			results, err := RunSuite(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) == 0 {
				t.Fatal("suite ran no cases")
			}
			for _, r := range results {
				name := r.Test
				if r.Case != "" {
					name += "/" + r.Case
				}
				t.Run(name, func(t *testing.T) {
					if r.Skipped {
						t.Skip("skipped by suite")
					}
					if r.Err != nil {
						t.Error(r.Err)
					}
				})
			}
		})
	}
	if dirs == 0 {
		t.Fatalf("no template directories under %s", templatesDir)
	}
}

// checkSuiteFiles fails when dir has no template or suite, when the suite
// references a missing file or a template other than the library's, or when
// it lacks an allowed or a disallowed case.
func checkSuiteFiles(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{templateFile, suiteFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("every template directory needs %s: %v", name, err)
		}
	}
	fsys := os.DirFS(dir)
	s, err := loadSuite(fsys)
	if err != nil {
		t.Fatal(err)
	}
	files, err := s.files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := fs.Stat(fsys, f); errors.Is(err, fs.ErrNotExist) {
			t.Errorf("suite references missing file %s", f)
		} else if err != nil {
			t.Error(err)
		}
	}

	allowed, disallowed := 0, 0
	for _, test := range s.Tests {
		if test.Template != templateFile {
			t.Errorf("test %q: template is %q, want the library's %q", test.Name, test.Template, templateFile)
		}
		for _, c := range test.Cases {
			if c.Skip {
				continue
			}
			if c.expectsViolations() {
				disallowed++
			} else {
				allowed++
			}
		}
	}
	if allowed == 0 {
		t.Error("suite needs at least one allowed case (violations: no)")
	}
	if disallowed == 0 {
		t.Error("suite needs at least one disallowed case")
	}
}
