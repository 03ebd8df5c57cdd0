package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// writeSuiteDir creates a suite directory with the block-nodeport library
// template, a constraint, sample objects and the given suite.yaml.
func writeSuiteDir(t *testing.T, suiteYAML string) string {
	t.Helper()
	dir := t.TempDir()
	tmpl, err := os.ReadFile(filepath.Join(templatesDir, "block-nodeport", templateFile))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		templateFile: string(tmpl),
		suiteFile:    suiteYAML,
		"constraint.yaml": `apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBlockNodePort
metadata:
  name: block-nodeport
`,
		"nodeport.yaml":  fmt.Sprintf(nodePortServiceFmt, "a"),
		"clusterip.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: a\nspec:\n  type: ClusterIP\n",
		"two.yaml":       "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const suiteHeader = "kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\ntests:\n"

func TestRunSuiteReportsFailures(t *testing.T) {
	dir := writeSuiteDir(t, suiteHeader+`
- name: t
  template: template.yaml
  constraint: constraint.yaml
  cases:
  - name: pass-no
    object: clusterip.yaml
    assertions: [{violations: no}]
  - name: pass-count-and-message
    object: nodeport.yaml
    assertions: [{violations: 1, message: "NodePort is not allowed"}]
  - name: pass-default-yes
    object: nodeport.yaml
    assertions: [{}]
  - name: fail-expected-none
    object: nodeport.yaml
    assertions: [{violations: no}]
  - name: fail-expected-some
    object: clusterip.yaml
    assertions: [{violations: "yes"}]
  - name: fail-wrong-count
    object: nodeport.yaml
    assertions: [{violations: 2}]
  - name: fail-wrong-message
    object: nodeport.yaml
    assertions: [{violations: 1, message: "LoadBalancer"}]
  - name: fail-missing-object
    object: missing.yaml
    assertions: [{violations: no}]
  - name: fail-two-objects
    object: two.yaml
    assertions: [{violations: no}]
  - name: fail-no-assertions
    object: nodeport.yaml
  - name: fail-escapes-dir
    object: ../nodeport.yaml
    assertions: [{violations: no}]
  - name: fail-bad-violations
    object: nodeport.yaml
    assertions: [{violations: maybe}]
  - name: skipped
    skip: true
    object: nodeport.yaml
    assertions: [{violations: no}]
- name: invalid-but-valid
  template: template.yaml
  constraint: constraint.yaml
  invalid: true
- name: missing-constraint
  template: template.yaml
  constraint: nope.yaml
  cases:
  - name: c
    object: nodeport.yaml
    assertions: [{violations: 1}]
`)
	results, err := RunSuite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range results {
		key := r.Test + "/" + r.Case
		seen[key] = true
		wantFail := strings.HasPrefix(r.Case, "fail-") || r.Case == ""
		switch {
		case r.Case == "skipped":
			if !r.Skipped || r.Err != nil {
				t.Errorf("%s: got skipped=%v err=%v, want skipped", key, r.Skipped, r.Err)
			}
		case wantFail && r.Err == nil:
			t.Errorf("%s: passed, want failure", key)
		case !wantFail && r.Err != nil:
			t.Errorf("%s: %v", key, r.Err)
		}
	}
	for _, key := range []string{"t/fail-wrong-count", "invalid-but-valid/", "missing-constraint/"} {
		if !seen[key] {
			t.Errorf("no result for %s; results: %+v", key, results)
		}
	}
}

func TestRunSuiteRejectsMalformedSuites(t *testing.T) {
	tests := map[string]string{
		"unknown field":  suiteHeader + "- name: t\n  template: template.yaml\n  constraint: constraint.yaml\n  cases:\n  - name: c\n    object: nodeport.yaml\n    assertion: [{violations: no}]\n",
		"wrong kind":     "kind: Suit\napiVersion: test.gatekeeper.sh/v1alpha1\ntests: []\n",
		"wrong version":  "kind: Suite\napiVersion: test.gatekeeper.sh/v1\ntests: []\n",
		"not yaml":       "kind: [",
		"two documents":  suiteHeader + "[]\n---\n" + suiteHeader + "[]\n",
		"empty document": "",
	}
	for name, suiteYAML := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := RunSuite(context.Background(), writeSuiteDir(t, suiteYAML)); err == nil {
				t.Fatal("RunSuite() accepted a malformed suite")
			}
		})
	}
	if _, err := RunSuite(context.Background(), t.TempDir()); err == nil {
		t.Fatal("RunSuite() accepted a directory without suite.yaml")
	}
}

func TestAssertionCheck(t *testing.T) {
	vs := []Violation{{Message: "container <a> is privileged"}, {Message: "container <b> is privileged"}, {Message: "hostPID is not allowed"}}
	str := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	num := func(n int) *intstr.IntOrString { v := intstr.FromInt32(int32(n)); return &v }
	msg := func(s string) *string { return &s }
	tests := []struct {
		name string
		a    assertion
		pass bool
	}{
		{"default is yes", assertion{}, true},
		{"yes", assertion{Violations: str("yes")}, true},
		{"no", assertion{Violations: str("no")}, false},
		{"count", assertion{Violations: num(3)}, true},
		{"count mismatch", assertion{Violations: num(2)}, false},
		{"message count", assertion{Violations: num(2), Message: msg("privileged")}, true},
		{"message regexp", assertion{Violations: num(1), Message: msg("^container <b>")}, true},
		{"message no match", assertion{Violations: str("no"), Message: msg("hostNetwork")}, true},
		{"message yes no match", assertion{Message: msg("hostNetwork")}, false},
		{"bad regexp", assertion{Message: msg("(")}, false},
		{"negative count", assertion{Violations: num(-1)}, false},
		{"bad string", assertion{Violations: str("some")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.check(vs)
			if tt.pass && err != nil {
				t.Fatalf("check() = %v, want nil", err)
			}
			if !tt.pass && err == nil {
				t.Fatal("check() = nil, want error")
			}
		})
	}
	if err := (&assertion{Violations: str("no")}).check(vs); !errors.Is(err, errAssertion) {
		t.Fatalf("check() = %v, want %v", err, errAssertion)
	}
}
