package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/internal/localrepo"
)

// exampleCopy copies tenants-example into a temp dir and applies edits (file -> old -> new).
func exampleCopy(t *testing.T, edits ...[3]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	r := &localrepo.Repo{Dir: dir}
	if err := r.CopyDir("../../tenants-example"); err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		path := filepath.Join(dir, e[0])
		data, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if e[1] != "" && !strings.Contains(string(data), e[1]) {
			t.Fatalf("%s does not contain %q", e[0], e[1])
		}
		out := strings.Replace(string(data), e[1], e[2], 1)
		if e[1] == "" {
			out = e[2]
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCLI(args ...string) (string, int) {
	var out bytes.Buffer
	root := NewRoot(&out, &out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		return out.String(), ExitCode(err)
	}
	return out.String(), 0
}

const nodePortAndPod = `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c, image: quay.io/x/y}]}
`

func TestValidateExitCodesAndFindings(t *testing.T) {
	manifests := filepath.Join(t.TempDir(), "app.yaml")
	if err := os.WriteFile(manifests, []byte(nodePortAndPod), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		dir      string
		extra    []string
		wantCode int
		want     []string
	}{
		{name: "example repo is clean", dir: exampleCopy(t), wantCode: 0, want: []string{"0 error(s), 0 violation(s)"}},
		{
			name: "meta-policy: 64 CPUs against 32",
			dir: exampleCopy(t, [3]string{"defaults.yaml", `cpu: "32"`, `cpu: "128"`},
				[3]string{"tenants/team-a.yaml", `cpu: "20"`, `cpu: "64"`}),
			wantCode: 1,
			want:     []string{`tenants/team-a.yaml:23: [tenant-max-32-cpu] spec.quota.cpu: 64 CPUs is more than the 32`},
		},
		{
			name:     "meta-policy: no owner group",
			dir:      exampleCopy(t, [3]string{"tenants/team-c.yaml", "kind: Group", "kind: User"}),
			wantCode: 1,
			want:     []string{"tenants/team-c.yaml:", "[tenant-owner-group] spec.owners: a tenant needs at least one owner of kind Group"},
		},
		{
			name:     "malformed file",
			dir:      exampleCopy(t, [3]string{"tenants/team-b.yaml", "  kubernetesVersion:", "  kubernetesVersio:"}),
			wantCode: 2,
			want:     []string{`tenants/team-b.yaml:10: spec: unknown field "kubernetesVersio"`},
		},
		{
			name:     "unknown template",
			dir:      exampleCopy(t, [3]string{"tenants/team-a.yaml", "template: K8sBlockNodePort", "template: K8sNoSuchThing"}),
			wantCode: 2,
			want:     []string{`spec.policies[0].template: no ConstraintTemplate of kind "K8sNoSuchThing"`},
		},
		{
			name:     "parameters against the template schema",
			dir:      exampleCopy(t, [3]string{"tenants/team-a.yaml", `repos: ["registry.example.com/team-a/", "docker.io/library/"]`, `repos: "docker.io/"`}),
			wantCode: 2,
			want:     []string{"spec.policies[1].parameters:", "repos"},
		},
		{
			name:     "manifests against the tenant's constraints",
			dir:      exampleCopy(t),
			extra:    []string{"--tenant", "team-a", "-f", manifests},
			wantCode: 1,
			// The shared constraints' names: tenantry-<kind>-<digest of action and parameters>.
			want: []string{manifests + ":1: [tenantry-k8sblocknodeport-", "] Service web: Service <web>: type NodePort is not allowed",
				manifests + ":7: [tenantry-k8sallowedrepos-", "] Pod p:", "1 violation(s), 1 warning(s)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runCLI(append([]string{"validate", tt.dir}, tt.extra...)...)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; output:\n%s", code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestValidateOutputFormats(t *testing.T) {
	dir := exampleCopy(t, [3]string{"tenants/team-c.yaml", "kind: Group", "kind: User"})
	out, code := runCLI("validate", dir, "-o", "json")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var report struct {
		Findings []struct {
			File, Severity, Constraint string
			Line                       int
		}
		Violations int
	}
	if err := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &report); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	if report.Violations != 1 || report.Findings[0].File != "tenants/team-c.yaml" || report.Findings[0].Line == 0 {
		t.Fatalf("report %+v", report)
	}
	out, _ = runCLI("validate", dir, "-o", "github")
	if !strings.HasPrefix(out, "::error file=tenants/team-c.yaml,line=") || !strings.Contains(out, "title=tenantry violation%3A tenant-owner-group::") {
		t.Fatalf("github output:\n%s", out)
	}
}
