package loader

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestLoadExample(t *testing.T) {
	repo, err := Load("../../tenants-example")
	if err != nil {
		t.Fatal(err)
	}
	if len(repo.Failed) != 0 {
		t.Fatalf("failed tenants: %+v", repo.Failed)
	}
	if repo.Files != 3 || repo.Defaults == nil || len(repo.Policies) != 0 {
		t.Fatalf("files %d, defaults %v, policies %v", repo.Files, repo.Defaults, repo.Policies)
	}
	var names []string
	for _, tn := range repo.Tenants {
		names = append(names, tn.Name)
		if tn.Status.SourcePath != "tenants/"+tn.Name+".yaml" {
			t.Errorf("%s: source path %q", tn.Name, tn.Status.SourcePath)
		}
	}
	if !slices.Equal(names, []string{"team-a", "team-b", "team-c"}) {
		t.Fatalf("tenants %v", names)
	}
	a, b, c := repo.Tenants[0].Spec, repo.Tenants[1].Spec, repo.Tenants[2].Spec
	tests := []struct {
		what      string
		got, want any
	}{
		{"team-a keeps its cpu", quantity(a.Quota, corev1.ResourceCPU), "20"},
		{"team-a keeps its pods", quantity(a.Quota, corev1.ResourcePods), "20"},
		{"team-a keeps its default cpu limit", quantity(a.Limits.Default, corev1.ResourceCPU), "1"},
		{"team-a version resolved", a.KubernetesVersion, "v1.37.2"},
		{"team-a owners", len(a.Owners), 2},
		{"team-b version resolved", b.KubernetesVersion, "v1.36.3"},
		{"team-b expose", b.Expose, v1alpha1.Expose{Type: "Ingress", Host: "team-b.tenants.example.com"}},
		{"team-b deletion policy", b.DeletionPolicy, v1alpha1.DeletionDelete},
		{"team-b drift", b.Drift.Mode, v1alpha1.DriftDetectOnly},
		{"team-b syncs ingresses", b.Sync.Ingresses, true},
		{"team-c quota cpu from defaults", quantity(c.Quota, corev1.ResourceCPU), "8"},
		{"team-c quota memory from defaults", quantity(c.Quota, corev1.ResourceMemory), "16Gi"},
		{"team-c quota pods from defaults", quantity(c.Quota, corev1.ResourcePods), "50"},
		{"team-c default request from defaults", quantity(c.Limits.DefaultRequest, corev1.ResourceMemory), "128Mi"},
		{"team-c newest version", c.KubernetesVersion, v1alpha1.NewestKubernetesVersion()},
		{"team-c isolation", c.Network.Isolation, v1alpha1.IsolationIsolated},
		{"team-c deletion policy", c.DeletionPolicy, v1alpha1.DeletionRetain},
		{"team-c drift", c.Drift.Mode, v1alpha1.DriftCorrect},
		{"team-c expose", c.Expose.Type, "ClusterIP"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.what, tt.got, tt.want)
		}
	}
}

func quantity(list corev1.ResourceList, name corev1.ResourceName) string {
	q, ok := list[name]
	if !ok {
		return "<unset>"
	}
	return q.String()
}

func TestLoadKeepsGoodTenants(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"tenants/team-a.yaml":            tenantDoc("team-a", "  quota:", "    cpu: 2o"),
		"tenants/team-b.yaml":            tenantDoc("team-b", "  paused: true"),
		"tenants/team-c.yml":             tenantDoc("team-c", "  paused: false"),
		"tenants/README.md":              "not a tenant",
		"tenants/.hidden.yaml":           "ignored",
		"policies/k8sblocknodeport.yaml": "kind: ConstraintTemplate\n",
		"policies/notes.txt":             "ignored",
	})
	repo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(repo.Tenants) != 2 || repo.Tenants[0].Name != "team-b" || repo.Tenants[1].Name != "team-c" {
		t.Errorf("tenants: %v", tenantNames(repo))
	}
	if repo.Tenants[1].Status.SourcePath != "tenants/team-c.yml" {
		t.Errorf("source path %q", repo.Tenants[1].Status.SourcePath)
	}
	want := []string{`tenants/team-a.yaml:7: spec.quota.cpu: invalid quantity "2o"`}
	if len(repo.Failed) != 1 || repo.Failed[0].Name != "team-a" || repo.Failed[0].Path != "tenants/team-a.yaml" ||
		!slices.Equal(errorLines(repo.Failed[0].Errors), want) {
		t.Errorf("failed: %+v", repo.Failed)
	}
	if repo.Files != 3 || repo.Defaults != nil {
		t.Errorf("files %d, defaults %v", repo.Files, repo.Defaults)
	}
	if len(repo.Policies) != 1 || repo.Policies[0].Path != "policies/k8sblocknodeport.yaml" ||
		string(repo.Policies[0].Data) != "kind: ConstraintTemplate\n" {
		t.Errorf("policies: %+v", repo.Policies)
	}
}

func tenantNames(repo *Repo) []string {
	var names []string
	for _, tn := range repo.Tenants {
		names = append(names, tn.Name)
	}
	return names
}

func TestLoadConflicts(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		tenants []string
		failed  map[string][]string
	}{{
		name: "same name",
		files: map[string]string{
			"tenants/team-a.yaml": tenantDoc("team-a", "  paused: true"),
			"tenants/team-a.yml":  tenantDoc("team-a", "  paused: false"),
			"tenants/team-b.yaml": tenantDoc("team-b", "  paused: false"),
		},
		tenants: []string{"team-b"},
		failed: map[string][]string{
			"tenants/team-a.yaml": {`tenants/team-a.yaml:4: metadata.name: tenant name "team-a" is also used by tenants/team-a.yml`},
			"tenants/team-a.yml":  {`tenants/team-a.yml:4: metadata.name: tenant name "team-a" is also used by tenants/team-a.yaml`},
		},
	}, {
		name: "same namespace, set or implied",
		files: map[string]string{
			"tenants/team-a.yaml": tenantDoc("team-a", "  namespace: tenant-team-b"),
			"tenants/team-b.yaml": tenantDoc("team-b", "  paused: false"),
			"tenants/team-c.yaml": tenantDoc("team-c", "  namespace: shared"),
			"tenants/team-d.yaml": tenantDoc("team-d", "  namespace: shared"),
			"tenants/team-e.yaml": tenantDoc("team-e", "  namespace: tenant-team-e"),
		},
		tenants: []string{"team-e"},
		failed: map[string][]string{
			"tenants/team-a.yaml": {`tenants/team-a.yaml:6: spec.namespace: host namespace "tenant-team-b" is also used by tenants/team-b.yaml`},
			"tenants/team-b.yaml": {`tenants/team-b.yaml:4: metadata.name: host namespace "tenant-team-b" is also used by tenants/team-a.yaml`},
			"tenants/team-c.yaml": {`tenants/team-c.yaml:6: spec.namespace: host namespace "shared" is also used by tenants/team-d.yaml`},
			"tenants/team-d.yaml": {`tenants/team-d.yaml:6: spec.namespace: host namespace "shared" is also used by tenants/team-c.yaml`},
		},
	}, {
		name: "an invalid file still claims its namespace",
		files: map[string]string{
			"tenants/team-a.yaml": tenantDoc("team-a", "  namespace: shared", "  paused: maybe"),
			"tenants/team-b.yaml": tenantDoc("team-b", "  namespace: shared"),
			"tenants/team-c.yaml": "{",
		},
		failed: map[string][]string{
			"tenants/team-a.yaml": {
				`tenants/team-a.yaml:6: spec.namespace: host namespace "shared" is also used by tenants/team-b.yaml`,
				`tenants/team-a.yaml:7: spec.paused: expected a boolean (true or false), got string "maybe"`,
			},
			"tenants/team-b.yaml": {`tenants/team-b.yaml:6: spec.namespace: host namespace "shared" is also used by tenants/team-a.yaml`},
			"tenants/team-c.yaml": {`tenants/team-c.yaml:1: invalid YAML: did not find expected node content`},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := Load(writeRepo(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			if got := tenantNames(repo); !slices.Equal(got, tt.tenants) {
				t.Errorf("tenants %v, want %v", got, tt.tenants)
			}
			if len(repo.Failed) != len(tt.failed) {
				t.Errorf("failed %+v, want %v", repo.Failed, tt.failed)
			}
			for _, f := range repo.Failed {
				if got := errorLines(f.Errors); !slices.Equal(got, tt.failed[f.Path]) {
					t.Errorf("%s:\n%s\nwant:\n%s", f.Path, strings.Join(got, "\n"), strings.Join(tt.failed[f.Path], "\n"))
				}
			}
		})
	}
}

func TestLoadDefaults(t *testing.T) {
	defaults := doc(
		"apiVersion: tenantry.dev/v1alpha1",
		"kind: TenantDefaults",
		"spec:",
		"  defaults:",
		"    quota: {cpu: 2, memory: 4Gi}",
		"    limits: {default: {cpu: 500m, memory: 1Gi}}",
		"    kubernetesVersion: '1.36'",
		"    network: {isolation: None}",
		"    persistence: {size: 1Gi}",
		"    expose: {type: NodePort}",
		"  maxQuota: {cpu: 32}",
		"  requiredPolicies:",
		"    - template: K8sBlockNodePort",
		"    - template: K8sRequiredLabels",
		"      enforcementAction: warn",
		"      parameters: {labels: [team]}",
		"  maxTenantDeletions: 2")
	dir := writeRepo(t, map[string]string{
		"defaults.yaml": defaults,
		"tenants/team-a.yaml": tenantDoc("team-a",
			"  quota: {cpu: 4}",
			"  limits: {default: {memory: 2Gi}, max: {cpu: 2}}",
			"  kubernetesVersion: v1.37",
			"  policies:",
			"    - template: K8sRequiredLabels",
			"      enforcementAction: warn",
			"      parameters: {labels: [team]}"),
		"tenants/team-b.yaml": tenantDoc("team-b", "  quota:", "    cpu: 40"),
		"tenants/team-c.yaml": tenantDoc("team-c", "  expose: {host: c.example.com}"),
	})
	repo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if *repo.Defaults.Spec.MaxTenantDeletions != 2 {
		t.Errorf("defaults: %+v", repo.Defaults.Spec)
	}
	wantFailed := []string{`tenants/team-b.yaml:7: spec.quota.cpu: 40 exceeds the platform maximum 32`}
	if len(repo.Failed) != 1 || !slices.Equal(errorLines(repo.Failed[0].Errors), wantFailed) {
		t.Fatalf("failed: %+v", repo.Failed)
	}
	a, c := repo.Tenants[0].Spec, repo.Tenants[1].Spec
	tests := []struct {
		what      string
		got, want any
	}{
		{"own cpu wins", quantity(a.Quota, corev1.ResourceCPU), "4"},
		{"memory defaulted per key", quantity(a.Quota, corev1.ResourceMemory), "4Gi"},
		{"own limit wins", quantity(a.Limits.Default, corev1.ResourceMemory), "2Gi"},
		{"limit defaulted per key", quantity(a.Limits.Default, corev1.ResourceCPU), "500m"},
		{"own max kept", quantity(a.Limits.Max, corev1.ResourceCPU), "2"},
		{"own version wins", a.KubernetesVersion, "v1.37.2"},
		{"required policy added after the tenant's", policyTemplates(a.Policies), "K8sRequiredLabels,K8sBlockNodePort"},
		{"a required policy listed as required is kept", string(a.Policies[0].Parameters.Raw), `{"labels":["team"]}`},
		{"defaulted version", c.KubernetesVersion, "v1.36.3"},
		{"defaulted isolation", c.Network.Isolation, v1alpha1.IsolationNone},
		{"defaulted size", c.Persistence.Size.String(), "1Gi"},
		{"defaulted expose type", c.Expose, v1alpha1.Expose{Type: "NodePort", Host: "c.example.com"}},
		{"built-in deletion policy", c.DeletionPolicy, v1alpha1.DeletionRetain},
		{"required policies", policyTemplates(c.Policies), "K8sBlockNodePort,K8sRequiredLabels"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.what, tt.got, tt.want)
		}
	}
	// Defaults are copied, never shared between tenants.
	c.Quota[corev1.ResourceMemory] = resource.MustParse("1")
	c.Policies[1].Parameters.Raw[0] = 'X'
	if got := quantity(repo.Defaults.Spec.Defaults.Quota, corev1.ResourceMemory); got != "4Gi" {
		t.Errorf("defaults changed through a tenant: %s", got)
	}
	if got := string(repo.Defaults.Spec.RequiredPolicies[1].Parameters.Raw); got != `{"labels":["team"]}` {
		t.Errorf("defaults changed through a tenant: %s", got)
	}
}

func policyTemplates(policies []v1alpha1.Policy) string {
	var names []string
	for _, p := range policies {
		names = append(names, p.Template)
	}
	return strings.Join(names, ",")
}

func TestLoadDefaultsIngress(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"defaults.yaml":       doc("apiVersion: tenantry.dev/v1alpha1", "kind: TenantDefaults", "spec:", "  defaults:", "    expose: {type: Ingress}"),
		"tenants/team-a.yaml": tenantDoc("team-a", "  owners: [{kind: User, name: a}]"),
		"tenants/team-b.yaml": tenantDoc("team-b", "  expose: {host: b.example.com}"),
	})
	repo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tenants/team-a.yaml:5: spec.expose.host: required when expose.type is Ingress"}
	if len(repo.Failed) != 1 || !slices.Equal(errorLines(repo.Failed[0].Errors), want) {
		t.Errorf("failed: %+v", repo.Failed)
	}
	if got := tenantNames(repo); !slices.Equal(got, []string{"team-b"}) {
		t.Errorf("tenants: %v", got)
	}
}

func TestLoadRepoErrors(t *testing.T) {
	tenants := map[string]string{"tenants/team-a.yaml": tenantDoc("team-a")}
	with := func(files map[string]string) map[string]string {
		for k, v := range tenants {
			files[k] = v
		}
		return files
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{{
		name:  "no tenants directory",
		files: map[string]string{"defaults.yaml": "apiVersion: tenantry.dev/v1alpha1\nkind: TenantDefaults\n"},
		want:  "has no tenants/ directory",
	}, {
		name: "broken defaults.yaml",
		files: with(map[string]string{"defaults.yaml": doc(
			"apiVersion: tenantry.dev/v1alpha1",
			"kind: TenantDefaults",
			"spec:",
			"  defaults:",
			"    quota: {cpu: 2o}")}),
		want: "invalid defaults.yaml, which applies to every tenant, so no tenant was loaded:\n" +
			`defaults.yaml:5: spec.defaults.quota.cpu: invalid quantity "2o"`,
	}, {
		name:  "defaults.yaml syntax error",
		files: with(map[string]string{"defaults.yaml": doc("apiVersion: tenantry.dev/v1alpha1", "kind: [")}),
		want:  "defaults.yaml:2: invalid YAML: did not find expected node content",
	}, {
		name: "defaults.yaml semantics",
		files: with(map[string]string{"defaults.yaml": doc(
			"apiVersion: tenantry.dev/v1alpha1",
			"kind: Tenant",
			"spec:",
			"  defaults:",
			"    owners: [{kind: User, name: a}]",
			"    quota: {cpu: 64}",
			"    kubernetesVersion: '1.19'",
			"    policies: []",
			"  maxQuota: {cpu: 32}",
			"  requiredPolicies: [{enforcementAction: no}]",
			"  maxTenantDeletions: -1")}),
		want: "no tenant was loaded:\n" + strings.Join([]string{
			`defaults.yaml:2: kind: must be "TenantDefaults", got "Tenant"`,
			`defaults.yaml:5: spec.defaults.owners: cannot be defaulted: set it in each tenant file`,
			`defaults.yaml:6: spec.defaults.quota.cpu: 64 exceeds the platform maximum 32`,
			`defaults.yaml:7: spec.defaults.kubernetesVersion: unsupported Kubernetes version "1.19" (supported: 1.36, 1.37)`,
			`defaults.yaml:8: spec.defaults.policies: cannot be defaulted: use spec.requiredPolicies`,
			`defaults.yaml:10: spec.requiredPolicies[0].template: required (the ConstraintTemplate's kind)`,
			`defaults.yaml:10: spec.requiredPolicies[0].enforcementAction: unsupported value "no" (must be deny, warn or dryrun)`,
			`defaults.yaml:11: spec.maxTenantDeletions: must not be negative, got -1`,
		}, "\n"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := Load(writeRepo(t, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load() = %v, %v; want an error containing\n%s", repo, err, tt.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing directory succeeded")
	}
}

func TestLoadRejectsSymlinks(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(secret, []byte(tenantDoc("team-b")), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := writeRepo(t, map[string]string{"tenants/team-a.yaml": tenantDoc("team-a")})
	if err := os.Symlink(secret, filepath.Join(dir, "tenants", "team-b.yaml")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	repo, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tenants/team-b.yaml: not a regular file (symlinks are not followed)"}
	if len(repo.Failed) != 1 || !slices.Equal(errorLines(repo.Failed[0].Errors), want) || len(repo.Tenants) != 1 {
		t.Errorf("tenants %v, failed %+v", tenantNames(repo), repo.Failed)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "defaults.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "defaults.yaml: not a regular file") {
		t.Errorf("Load with a symlinked defaults.yaml: %v", err)
	}
}

func TestResolveKubernetesVersion(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"1.37", "v1.37.2", ""},
		{"v1.37", "v1.37.2", ""},
		{"1.37.2", "v1.37.2", ""},
		{"v1.36.0", "v1.36.3", ""},
		{"1.20", "", `unsupported Kubernetes version "1.20" (supported: 1.36, 1.37)`},
		{"1.037", "", `invalid Kubernetes version "1.037" (want a version like 1.37, v1.37 or v1.37.2)`},
		{"", "", `invalid Kubernetes version ""`},
		{"V1.37", "", `invalid Kubernetes version "V1.37"`},
	}
	for _, tt := range tests {
		got, err := v1alpha1.ResolveKubernetesVersion(tt.in)
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.err)) {
			t.Errorf("ResolveKubernetesVersion(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
	if got := v1alpha1.NewestKubernetesVersion(); got != "v1.37.2" {
		t.Errorf("NewestKubernetesVersion() = %q", got)
	}
}

func TestLoadTooLargeFile(t *testing.T) {
	big := tenantDoc("team-b") + "# " + strings.Repeat("x", maxFileSize) + "\n"
	repo, err := Load(writeRepo(t, map[string]string{"tenants/team-b.yaml": big}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tenants/team-b.yaml: file too large (the limit is 1048576 bytes)"}
	if len(repo.Failed) != 1 || !slices.Equal(errorLines(repo.Failed[0].Errors), want) {
		t.Errorf("failed: %+v", repo.Failed)
	}
}
