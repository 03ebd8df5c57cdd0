package loader

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// defaultsDoc is a defaults.yaml with the given spec lines (none: no defaults.yaml).
func defaultsDoc(spec ...string) string {
	if len(spec) == 0 {
		return ""
	}
	return doc(append([]string{"apiVersion: tenantry.dev/v1alpha1", "kind: TenantDefaults", "spec:"}, spec...)...)
}

// loadTeamA loads a repo of defaults.yaml (may be empty) and tenants/team-a.yaml.
func loadTeamA(t *testing.T, defaults, tenant string) *Repo {
	t.Helper()
	files := map[string]string{"tenants/team-a.yaml": tenant}
	if defaults != "" {
		files["defaults.yaml"] = defaults
	}
	repo, err := Load(writeRepo(t, files))
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func teamAErrors(repo *Repo) []string {
	for _, f := range repo.Failed {
		return errorLines(f.Errors)
	}
	return nil
}

// TestTenantFileClaims: a tenant file is refused, with file:line and field, when it claims
// what is not its own. Each case is an attack a tenant could send as a pull request.
func TestTenantFileClaims(t *testing.T) {
	const grantHelp = "a tenant file cannot grant itself this: the platform team must grant it in defaults.yaml spec.tenantExceptions "
	tests := []struct {
		name     string
		defaults []string
		spec     []string
		want     []string // errors of tenants/team-a.yaml; none: it loads
	}{
		{name: "kube-system", spec: []string{"  namespace: kube-system"},
			want: []string{`tenants/team-a.yaml:6: spec.namespace: host namespace "kube-system" is protected (matches "kube-*", reserved for the cluster and its platform components): a tenant may not claim it`}},
		{name: "kube-node-lease", spec: []string{"  namespace: kube-node-lease"},
			want: []string{`tenants/team-a.yaml:6: spec.namespace: host namespace "kube-node-lease" is protected (matches "kube-*", reserved for the cluster and its platform components): a tenant may not claim it`}},
		{name: "default", spec: []string{"  namespace: default"},
			want: []string{`tenants/team-a.yaml:6: spec.namespace: host namespace "default" is protected (matches "default", reserved for the cluster and its platform components): a tenant may not claim it`}},
		{name: "the agent's namespace", spec: []string{"  namespace: tenantry-system"},
			want: []string{`tenants/team-a.yaml:6: spec.namespace: host namespace "tenantry-system" is protected (matches "tenantry-system", reserved for the cluster and its platform components): a tenant may not claim it`}},
		{name: "gatekeeper's namespace", spec: []string{"  namespace: gatekeeper-system"},
			want: []string{`tenants/team-a.yaml:6: spec.namespace: host namespace "gatekeeper-system" is protected (matches "gatekeeper-system", reserved for the cluster and its platform components): a tenant may not claim it`}},
		{name: "kubeflow is not kube-*", spec: []string{"  namespace: kubeflow"}},
		{name: "protected by defaults.yaml, exact", defaults: []string{"  protectedNamespaces: [monitoring]"}, spec: []string{"  namespace: monitoring"},
			want: []string{`tenants/team-a.yaml:6: spec.namespace: host namespace "monitoring" is protected (matches "monitoring" in defaults.yaml spec.protectedNamespaces): a tenant may not claim it`}},
		{name: "protected by defaults.yaml, glob, default namespace name", defaults: []string{"  protectedNamespaces: [tenant-team-*]"},
			want: []string{`tenants/team-a.yaml:4: metadata.name: host namespace "tenant-team-a" is protected (matches "tenant-team-*" in defaults.yaml spec.protectedNamespaces): a tenant may not claim it`}},
		{name: "allowHostPath without an exception", spec: []string{"  pods:", "    allowHostPath: true"},
			want: []string{"tenants/team-a.yaml:7: spec.pods.allowHostPath: " + grantHelp + "(tenants: [team-a], allowHostPath: true)"}},
		{name: "every pod privilege", spec: []string{"  pods: {allowHostNetwork: true, allowHostPID: true, allowPrivileged: true}"},
			want: []string{
				"tenants/team-a.yaml:6: spec.pods.allowHostNetwork: " + grantHelp + "(tenants: [team-a], allowHostNetwork: true)",
				"tenants/team-a.yaml:6: spec.pods.allowHostPID: " + grantHelp + "(tenants: [team-a], allowHostPID: true)",
				"tenants/team-a.yaml:6: spec.pods.allowPrivileged: " + grantHelp + "(tenants: [team-a], allowPrivileged: true)",
			}},
		{name: "isolation None without an exception", spec: []string{"  network:", "    isolation: None"},
			want: []string{"tenants/team-a.yaml:7: spec.network.isolation: " + grantHelp + "(tenants: [team-a], allowIsolationNone: true)"}},
		{name: "an exception for another tenant", defaults: []string{"  tenantExceptions: [{tenants: [team-b], allowHostPath: true}]"},
			spec: []string{"  pods: {allowHostPath: true}"},
			want: []string{"tenants/team-a.yaml:6: spec.pods.allowHostPath: " + grantHelp + "(tenants: [team-a], allowHostPath: true)"}},
		{name: "an exception for another privilege", defaults: []string{"  tenantExceptions: [{tenants: [team-a], allowHostPath: true}]"},
			spec: []string{"  pods: {allowPrivileged: true}"},
			want: []string{"tenants/team-a.yaml:6: spec.pods.allowPrivileged: " + grantHelp + "(tenants: [team-a], allowPrivileged: true)"}},
		{name: "granted by name", defaults: []string{"  tenantExceptions: [{tenants: [team-a], allowHostPath: true, allowIsolationNone: true}]"},
			spec: []string{"  pods: {allowHostPath: true}", "  network: {isolation: None}"}},
		{name: "granted by glob", defaults: []string{"  tenantExceptions: [{tenants: [ops, team-*], allowPrivileged: true}]"},
			spec: []string{"  pods: {allowPrivileged: true}"}},
		{name: "tolerations without an exception", spec: []string{"  pods:", "    tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists}]"},
			want: []string{"tenants/team-a.yaml:7: spec.pods.tolerations: " + grantHelp + "(tenants: [team-a], allowTolerations: true)"}},
		{name: "tolerations granted", defaults: []string{"  tenantExceptions: [{tenants: [team-a], allowTolerations: true}]"},
			spec: []string{"  pods:", "    tolerations: [{key: dedicated, operator: Equal, value: tenants, effect: NoSchedule}]"}},
		{name: "a toleration of every taint, even granted", defaults: []string{"  tenantExceptions: [{tenants: [team-a], allowTolerations: true}]"},
			spec: []string{"  pods:", "    tolerations: [{operator: Exists}]"},
			want: []string{"tenants/team-a.yaml:7: spec.pods.tolerations[0].key: required: a toleration without a key tolerates every taint, the control plane's too"}},
		{name: "a toleration the API would refuse", defaults: []string{"  tenantExceptions: [{tenants: [team-a], allowTolerations: true}]"},
			spec: []string{"  pods:", "    tolerations: [{key: 'a,b', operator: Exists, value: x, effect: Never}]"},
			want: []string{
				`tenants/team-a.yaml:7: spec.pods.tolerations[0].key: invalid taint key "a,b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
				`tenants/team-a.yaml:7: spec.pods.tolerations[0].effect: unsupported value "Never" (must be NoSchedule, PreferNoSchedule or NoExecute)`,
				"tenants/team-a.yaml:7: spec.pods.tolerations[0].value: must be empty when operator is Exists",
			}},
		{name: "isolation None as a platform default", defaults: []string{"  defaults: {network: {isolation: None}}"}},
		{name: "required policy switched to dryrun", defaults: []string{"  requiredPolicies: [{template: K8sBlockNodePort}]"},
			spec: []string{"  policies:", "    - template: K8sBlockNodePort", "      enforcementAction: dryrun"},
			want: []string{`tenants/team-a.yaml:8: spec.policies[0].enforcementAction: K8sBlockNodePort is required by defaults.yaml with enforcementAction "deny"; a tenant file cannot change it (remove this entry: required policies are added to every tenant)`}},
		{name: "required policy with weaker parameters",
			defaults: []string{"  requiredPolicies: [{template: K8sAllowedRepos, parameters: {repos: [registry.example.com/]}}]"},
			spec:     []string{"  policies:", "    - template: K8sAllowedRepos", "      parameters: {repos: ['']}"},
			want:     []string{`tenants/team-a.yaml:8: spec.policies[0].parameters: K8sAllowedRepos is required by defaults.yaml with other parameters; a tenant file cannot change them (remove this entry: required policies are added to every tenant)`}},
		{name: "required warn policy listed without an action",
			defaults: []string{"  requiredPolicies: [{template: K8sRequiredLabels, enforcementAction: warn, parameters: {labels: [team]}}]"},
			spec:     []string{"  policies:", "    - template: K8sRequiredLabels", "      parameters: {labels: [team]}"},
			want:     []string{`tenants/team-a.yaml:7: spec.policies[0].enforcementAction: K8sRequiredLabels is required by defaults.yaml with enforcementAction "warn"; a tenant file cannot change it (remove this entry: required policies are added to every tenant)`}},
		{name: "required policy listed as required", defaults: []string{"  requiredPolicies: [{template: K8sBlockNodePort, parameters: {}}]"},
			spec: []string{"  policies: [{template: K8sBlockNodePort, enforcementAction: deny}]"}},
		{name: "cpu above a requests.cpu cap", defaults: []string{"  maxQuota: {requests.cpu: '16'}"}, spec: []string{"  quota: {cpu: '1000'}"},
			want: []string{`tenants/team-a.yaml:6: spec.quota.cpu: 1k exceeds the platform maximum 16 (maxQuota requests.cpu)`}},
		{name: "requests.memory above a memory cap", defaults: []string{"  maxQuota: {memory: 64Gi}"}, spec: []string{"  quota:", "    requests.memory: 1Ti"},
			want: []string{`tenants/team-a.yaml:7: spec.quota.requests.memory: 1Ti exceeds the platform maximum 64Gi (maxQuota memory)`}},
		{name: "ephemeral-storage above a requests cap", defaults: []string{"  maxQuota: {requests.ephemeral-storage: 10Gi}"},
			spec: []string{"  quota: {ephemeral-storage: 11Gi}", "  limits: {default: {ephemeral-storage: 1Gi}}"},
			want: []string{`tenants/team-a.yaml:6: spec.quota.ephemeral-storage: 11Gi exceeds the platform maximum 10Gi (maxQuota requests.ephemeral-storage)`}},
		{name: "the lower of two spellings caps", defaults: []string{"  maxQuota: {cpu: '8', requests.cpu: '16'}"}, spec: []string{"  quota: {requests.cpu: '10'}"},
			want: []string{`tenants/team-a.yaml:6: spec.quota.requests.cpu: 10 exceeds the platform maximum 8 (maxQuota cpu)`}},
		{name: "ingress host outside the platform's domains", defaults: []string{"  ingressDomains: [apps.example.com]"},
			spec: []string{"  sync:", "    ingressHosts: [a.apps.example.com, '*.evil.example.com', '*.apps.example.com.evil.io']"},
			want: []string{
				`tenants/team-a.yaml:7: spec.sync.ingressHosts[1]: "*.evil.example.com" is not under any of defaults.yaml spec.ingressDomains (apps.example.com)`,
				`tenants/team-a.yaml:7: spec.sync.ingressHosts[2]: "*.apps.example.com.evil.io" is not under any of defaults.yaml spec.ingressDomains (apps.example.com)`,
			}},
		{name: "ingress hosts under the platform's domains", defaults: []string{"  ingressDomains: [apps.example.com]"},
			spec: []string{"  sync:", "    ingressHosts: [apps.example.com, '*.team-a.apps.example.com']"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := loadTeamA(t, defaultsDoc(tt.defaults...), tenantDoc("team-a", tt.spec...))
			if got := teamAErrors(repo); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(tt.want) == 0 && len(repo.Tenants) != 1 {
				t.Errorf("team-a did not load")
			}
		})
	}
}

// TestOmittedQuotaKeyGetsTheCap: leaving a capped key out of the quota does not mean
// unlimited; the key is set to the cap (in the cap's spelling), whichever spelling caps it.
func TestOmittedQuotaKeyGetsTheCap(t *testing.T) {
	defaults := defaultsDoc(
		"  defaults: {quota: {pods: '10'}}",
		"  maxQuota: {requests.cpu: '16', memory: 64Gi, limits.cpu: '32', pods: '50', services: '5'}")
	repo := loadTeamA(t, defaults, tenantDoc("team-a", "  quota: {cpu: '4', services: '2'}"))
	if len(repo.Tenants) != 1 {
		t.Fatalf("failed: %+v", repo.Failed)
	}
	q := repo.Tenants[0].Spec.Quota
	tests := []struct {
		key  corev1.ResourceName
		want string
	}{
		{"cpu", "4"},                   // the tenant's own, under requests.cpu's cap
		{"requests.cpu", "<unset>"},    // not added beside the tenant's cpu
		{"memory", "64Gi"},             // omitted: the cap
		{"limits.cpu", "32"},           // omitted: the cap
		{"pods", "10"},                 // from the defaults, under the cap
		{"services", "2"},              // the tenant's own
		{"requests.memory", "<unset>"}, // memory already set
	}
	for _, tt := range tests {
		if got := quantity(q, tt.key); got != tt.want {
			t.Errorf("quota %s = %q, want %q", tt.key, got, tt.want)
		}
	}
}

// TestDefaultsQuotaMergesByCanonicalKey: a tenant's cpu keeps the defaults' requests.cpu
// out, so the tenant's value is the one enforced.
func TestDefaultsQuotaMergesByCanonicalKey(t *testing.T) {
	repo := loadTeamA(t, defaultsDoc("  defaults: {quota: {requests.cpu: '2', memory: 1Gi}}"),
		tenantDoc("team-a", "  quota: {cpu: '8'}"))
	if len(repo.Tenants) != 1 {
		t.Fatalf("failed: %+v", repo.Failed)
	}
	q := repo.Tenants[0].Spec.Quota
	if quantity(q, "cpu") != "8" || quantity(q, "requests.cpu") != "<unset>" || quantity(q, "memory") != "1Gi" {
		t.Errorf("quota %v", q)
	}
}

// TestIngressHostConflicts: two tenants may not claim overlapping host patterns; both
// files get the error, naming the other.
func TestIngressHostConflicts(t *testing.T) {
	hosts := func(name string, patterns string, extra ...string) string {
		return tenantDoc(name, append([]string{"  sync:", "    ingressHosts: " + patterns}, extra...)...)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  map[string][]string
	}{
		{name: "the same host", files: map[string]string{
			"tenants/team-a.yaml": hosts("team-a", "[app.example.com]"),
			"tenants/team-b.yaml": hosts("team-b", "[app.example.com]"),
		}, want: map[string][]string{
			"tenants/team-a.yaml": {`tenants/team-a.yaml:7: spec.sync.ingressHosts[0]: host pattern "app.example.com" overlaps "app.example.com" of tenants/team-b.yaml`},
			"tenants/team-b.yaml": {`tenants/team-b.yaml:7: spec.sync.ingressHosts[0]: host pattern "app.example.com" overlaps "app.example.com" of tenants/team-a.yaml`},
		}},
		{name: "a wildcard over another's host", files: map[string]string{
			"tenants/team-a.yaml": hosts("team-a", "[x.example.com, '*.example.com']"),
			"tenants/team-b.yaml": hosts("team-b", "[team-b.example.com]"),
		}, want: map[string][]string{
			"tenants/team-a.yaml": {`tenants/team-a.yaml:7: spec.sync.ingressHosts[1]: host pattern "*.example.com" overlaps "team-b.example.com" of tenants/team-b.yaml`},
			"tenants/team-b.yaml": {`tenants/team-b.yaml:7: spec.sync.ingressHosts[0]: host pattern "team-b.example.com" overlaps "*.example.com" of tenants/team-a.yaml`},
		}},
		{name: "a wildcard over a deeper wildcard", files: map[string]string{
			"tenants/team-a.yaml": hosts("team-a", "['*.example.com']"),
			"tenants/team-b.yaml": hosts("team-b", "['*.b.example.com']"),
		}, want: map[string][]string{
			"tenants/team-a.yaml": {`tenants/team-a.yaml:7: spec.sync.ingressHosts[0]: host pattern "*.example.com" overlaps "*.b.example.com" of tenants/team-b.yaml`},
			"tenants/team-b.yaml": {`tenants/team-b.yaml:7: spec.sync.ingressHosts[0]: host pattern "*.b.example.com" overlaps "*.example.com" of tenants/team-a.yaml`},
		}},
		{name: "another tenant's API host", files: map[string]string{
			"tenants/team-a.yaml": hosts("team-a", "['*.tenants.example.com']"),
			"tenants/team-b.yaml": tenantDoc("team-b", "  expose: {type: Ingress, host: b.tenants.example.com}"),
		}, want: map[string][]string{
			"tenants/team-a.yaml": {`tenants/team-a.yaml:7: spec.sync.ingressHosts[0]: host pattern "*.tenants.example.com" overlaps "b.tenants.example.com" of tenants/team-b.yaml`},
			"tenants/team-b.yaml": {`tenants/team-b.yaml:6: spec.expose.host: host pattern "b.tenants.example.com" overlaps "*.tenants.example.com" of tenants/team-a.yaml`},
		}},
		{name: "disjoint patterns and a tenant's own API host", files: map[string]string{
			"tenants/team-a.yaml": hosts("team-a", "['*.a.example.com', a.example.com]", "  expose: {type: Ingress, host: api.a.example.com}"),
			"tenants/team-b.yaml": hosts("team-b", "['*.b.example.com', example.com]"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := Load(writeRepo(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			if len(repo.Failed) != len(tt.want) {
				t.Errorf("failed %+v, want %v", repo.Failed, tt.want)
			}
			for _, f := range repo.Failed {
				if got := errorLines(f.Errors); !slices.Equal(got, tt.want[f.Path]) {
					t.Errorf("%s:\n%s\nwant:\n%s", f.Path, strings.Join(got, "\n"), strings.Join(tt.want[f.Path], "\n"))
				}
			}
		})
	}
}

// TestDefaultsClaimRules: defaults.yaml's own claim rules are validated (a broken
// defaults.yaml fails the whole load, see TestLoadRepoErrors).
func TestDefaultsClaimRules(t *testing.T) {
	tests := []struct {
		name string
		spec []string
		want []string
	}{
		{name: "adopting kube-system", spec: []string{"  namespaceAdoptions:", "    - {namespace: kube-system, tenant: team-a}"},
			want: []string{`defaults.yaml:5: spec.namespaceAdoptions[0].namespace: namespace "kube-system" is protected (matches "kube-*", reserved for the cluster and its platform components) and cannot be adopted`}},
		{name: "adopting an admin-protected namespace", spec: []string{"  protectedNamespaces: [infra-*]", "  namespaceAdoptions:", "    - {namespace: infra-db, tenant: team-a}"},
			want: []string{`defaults.yaml:6: spec.namespaceAdoptions[0].namespace: namespace "infra-db" is protected (matches "infra-*" in defaults.yaml spec.protectedNamespaces) and cannot be adopted`}},
		{name: "one namespace for two tenants", spec: []string{"  namespaceAdoptions:", "    - {namespace: legacy, tenant: team-a}", "    - {namespace: legacy, tenant: team-b}"},
			want: []string{`defaults.yaml:6: spec.namespaceAdoptions[1].namespace: namespace "legacy" is already given to tenant "team-a"`}},
		{name: "incomplete adoption", spec: []string{"  namespaceAdoptions:", "    - {namespace: Legacy}"},
			want: []string{
				`defaults.yaml:5: spec.namespaceAdoptions[0].namespace: invalid namespace "Legacy": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
				`defaults.yaml:5: spec.namespaceAdoptions[0].tenant: required`,
			}},
		{name: "bad protected pattern", spec: []string{"  protectedNamespaces: ['*-system', ok-*]"},
			want: []string{`defaults.yaml:4: spec.protectedNamespaces[0]: invalid namespace or prefix glob "*-system": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{name: "protecting everything", spec: []string{"  protectedNamespaces: ['*']"},
			want: []string{`defaults.yaml:4: spec.protectedNamespaces[0]: "*" would protect every namespace and refuse every tenant`}},
		{name: "exception without tenants", spec: []string{"  tenantExceptions:", "    - {allowHostPath: true}", "    - {tenants: ['team-[']}"},
			want: []string{
				`defaults.yaml:5: spec.tenantExceptions[0].tenants: required: the tenant names (or globs) the exception is for`,
				`defaults.yaml:6: spec.tenantExceptions[1].tenants[0]: invalid tenant name or glob "team-["`,
			}},
		{name: "bad ingress domain", spec: []string{"  ingressDomains: ['*.example.com']"},
			want: []string{`defaults.yaml:4: spec.ingressDomains[0]: invalid ingress domain "*.example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := ParseDefaults("defaults.yaml", []byte(defaultsDoc(tt.spec...)))
			if got := errorLines(errs); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
