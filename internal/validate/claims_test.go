package validate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func tenantFile(name string, spec ...string) string {
	return strings.Join(append([]string{"apiVersion: tenantry.dev/v1alpha1", "kind: Tenant", "metadata:", "  name: " + name, "spec:"}, spec...), "\n") + "\n"
}

// TestRepoRefusesClaims: validate refuses offline, with file:line, what a tenant file may
// not claim, and adoptions defaults.yaml grants to tenants that have no file.
func TestRepoRefusesClaims(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"defaults.yaml": strings.Join([]string{
			"apiVersion: tenantry.dev/v1alpha1",
			"kind: TenantDefaults",
			"spec:",
			"  requiredPolicies: [{template: K8sBlockNodePort}]",
			"  namespaceAdoptions:",
			"    - {namespace: legacy, tenant: ghost}",
			"    - {namespace: legacy-b, tenant: team-b}",
			"    - {namespace: legacy-c, tenant: team-c}",
		}, "\n") + "\n",
		"tenants/team-a.yaml": tenantFile("team-a", "  namespace: kube-system"),
		"tenants/team-b.yaml": tenantFile("team-b", "  policies:", "    - template: K8sBlockNodePort", "      enforcementAction: dryrun"),
		"tenants/team-c.yaml": tenantFile("team-c", "  namespace: legacy-c", "  pods: {allowHostNetwork: true}"),
		"tenants/team-d.yaml": tenantFile("team-d", "  namespace: legacy-d"),
	})
	r, err := Repo(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.Write(&out, "text"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`tenants/team-a.yaml:6: spec.namespace: host namespace "kube-system" is protected (matches "kube-*", reserved for the cluster and its platform components): a tenant may not claim it`,
		`tenants/team-b.yaml:8: spec.policies[0].enforcementAction: K8sBlockNodePort is required by defaults.yaml with enforcementAction "deny"; a tenant file cannot change it (remove this entry: required policies are added to every tenant)`,
		`tenants/team-c.yaml:7: spec.pods.allowHostNetwork: a tenant file cannot grant itself this: the platform team must grant it in defaults.yaml spec.tenantExceptions (tenants: [team-c], allowHostNetwork: true)`,
		`defaults.yaml:6: spec.namespaceAdoptions[0].tenant: no tenant file tenants/ghost.yaml: an adoption must name an existing tenant`,
		// team-b and team-c are invalid, so their namespaces are unknown: their adoptions are not judged.
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) != len(want)+1 {
		t.Fatalf("report:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}
	for i, line := range want {
		if got[i] != line {
			t.Errorf("finding %d:\n got %s\nwant %s", i, got[i], line)
		}
	}
	if !r.HasErrors() || got[len(got)-1] != "4 error(s), 0 violation(s), 0 warning(s)" {
		t.Errorf("summary %q, errors %v", got[len(got)-1], r.HasErrors())
	}
}

// TestRepoWarnsUnusedAdoption: an adoption for a tenant that lives in another namespace
// is reported as a warning, which does not fail validation.
func TestRepoWarnsUnusedAdoption(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"defaults.yaml":       "apiVersion: tenantry.dev/v1alpha1\nkind: TenantDefaults\nspec:\n  namespaceAdoptions:\n    - {namespace: legacy, tenant: team-a}\n",
		"tenants/team-a.yaml": tenantFile("team-a", "  namespace: team-a"),
	})
	r, err := Repo(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.HasErrors() || len(r.Findings) != 1 || r.Findings[0].Severity != SeverityWarning || r.Findings[0].Line != 5 ||
		r.Findings[0].Message != `tenant team-a's host namespace is "team-a", not "legacy": this adoption is unused` {
		t.Errorf("findings %+v", r.Findings)
	}
}

// TestRepoRefusesProtectedAdoption: defaults.yaml may not hand out a protected namespace;
// the repo does not load at all (exit code 2 in the CLI).
func TestRepoRefusesProtectedAdoption(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"defaults.yaml":       "apiVersion: tenantry.dev/v1alpha1\nkind: TenantDefaults\nspec:\n  namespaceAdoptions:\n    - {namespace: kube-system, tenant: team-a}\n",
		"tenants/team-a.yaml": tenantFile("team-a", "  namespace: kube-system"),
	})
	_, err := Repo(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), `defaults.yaml:5: spec.namespaceAdoptions[0].namespace: namespace "kube-system" is protected`) {
		t.Errorf("err %v", err)
	}
}
