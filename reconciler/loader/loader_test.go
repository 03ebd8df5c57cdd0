package loader

import (
	"slices"
	"strings"
	"testing"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestParseTenantErrors(t *testing.T) {
	const file = "tenants/team-a.yaml"
	tests := []struct {
		name string
		in   string
		want []string
	}{{
		name: "bad indentation",
		in:   doc("apiVersion: tenantry.dev/v1alpha1", "kind: Tenant", "metadata:", "  name: team-a", " spec: {}"),
		want: []string{"tenants/team-a.yaml:5: invalid YAML: did not find expected key"},
	}, {
		name: "syntax error on the first line",
		in:   doc("apiVersion: a: b", "kind: Tenant"),
		want: []string{"tenants/team-a.yaml:1: invalid YAML: mapping values are not allowed in this context"},
	}, {
		name: "unterminated quote",
		in:   tenantDoc("team-a", "  namespace: 'tenant-a", "  paused: true"),
		want: []string{"tenants/team-a.yaml:6: invalid YAML: found unexpected end of stream"},
	}, {
		name: "unknown anchor",
		in:   tenantDoc("team-a", "  owners: *owners"),
		want: []string{"tenants/team-a.yaml:6: invalid YAML: unknown anchor 'owners' referenced"},
	}, {
		name: "empty file",
		in:   "# nothing yet\n",
		want: []string{"tenants/team-a.yaml: the file is empty: expected one Tenant"},
	}, {
		name: "multiple documents",
		in:   tenantDoc("team-a", "  paused: true") + doc("---", "apiVersion: tenantry.dev/v1alpha1", "kind: Tenant"),
		want: []string{"tenants/team-a.yaml:8: a second YAML document starts here: the file must hold exactly one Tenant"},
	}, {
		name: "not a map",
		in:   doc("- team-a"),
		want: []string{"tenants/team-a.yaml:1: expected a map, got a list"},
	}, {
		name: "unknown top-level field",
		in:   tenantDoc("team-a", "  paused: true", "specs: {}"),
		want: []string{`tenants/team-a.yaml:7: unknown field "specs"`},
	}, {
		name: "unknown spec field",
		in:   tenantDoc("team-a", "  quotaa:", "    cpu: 2"),
		want: []string{`tenants/team-a.yaml:6: spec: unknown field "quotaa"`},
	}, {
		name: "unknown fields at several depths",
		in: tenantDoc("team-a",
			"  owners:",
			"    - kind: User",
			"      name: alice",
			"      nmae: bob",
			"  sync:",
			"    nodes:",
			"      enabld: true",
			"  expose: {type: ClusterIP, hosts: [a]}"),
		want: []string{
			`tenants/team-a.yaml:9: spec.owners[0]: unknown field "nmae"`,
			`tenants/team-a.yaml:12: spec.sync.nodes: unknown field "enabld"`,
			`tenants/team-a.yaml:13: spec.expose: unknown field "hosts"`,
		},
	}, {
		name: "metadata allows only name, labels and annotations",
		in: doc("apiVersion: tenantry.dev/v1alpha1", "kind: Tenant", "metadata:",
			"  name: team-a", "  namespace: default", "  uid: x", "spec: {}"),
		want: []string{
			`tenants/team-a.yaml:5: metadata: unknown field "namespace"`,
			`tenants/team-a.yaml:6: metadata: unknown field "uid"`,
		},
	}, {
		name: "status is not part of the file",
		in:   tenantDoc("team-a", "  paused: false") + doc("status:", "  sourcePath: x"),
		want: []string{"tenants/team-a.yaml:7: status: is written by the agent and cannot be set in a tenant file"},
	}, {
		name: "bad and negative quantities",
		in: tenantDoc("team-a",
			"  quota:",
			"    cpu: 2o",
			"    memory: -1Gi",
			"  limits:",
			"    max:",
			"      cpu: lots",
			"  persistence:",
			"    size: 10 GB"),
		want: []string{
			`tenants/team-a.yaml:7: spec.quota.cpu: invalid quantity "2o"`,
			`tenants/team-a.yaml:8: spec.quota.memory: invalid quantity "-1Gi": must not be negative`,
			`tenants/team-a.yaml:11: spec.limits.max.cpu: invalid quantity "lots"`,
			`tenants/team-a.yaml:13: spec.persistence.size: invalid quantity "10 GB"`,
		},
	}, {
		name: "empty quantity",
		in:   tenantDoc("team-a", "  quota:", "    cpu:"),
		want: []string{`tenants/team-a.yaml:7: spec.quota.cpu: invalid quantity ""`},
	}, {
		name: "bad name",
		in:   tenantDoc("Team_A"),
		want: []string{`tenants/team-a.yaml:4: metadata.name: invalid name "Team_A": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`},
	}, {
		name: "name does not match the file",
		in:   tenantDoc("team-b"),
		want: []string{`tenants/team-a.yaml:4: metadata.name: "team-b" does not match the file name team-a.yaml`},
	}, {
		name: "missing name, apiVersion and kind",
		in:   doc("metadata: {}", "spec: {}"),
		want: []string{
			`tenants/team-a.yaml:1: apiVersion: required (must be "tenantry.dev/v1alpha1")`,
			`tenants/team-a.yaml:1: kind: required (must be "Tenant")`,
			`tenants/team-a.yaml:1: metadata.name: required (the file name without extension, "team-a")`,
		},
	}, {
		name: "wrong apiVersion and kind",
		in:   doc("apiVersion: v1", "kind: Namespace", "metadata:", "  name: team-a"),
		want: []string{
			`tenants/team-a.yaml:1: apiVersion: must be "tenantry.dev/v1alpha1", got "v1"`,
			`tenants/team-a.yaml:2: kind: must be "Tenant", got "Namespace"`,
		},
	}, {
		name: "bad namespace",
		in:   tenantDoc("team-a", "  namespace: tenants.a"),
		want: []string{`tenants/team-a.yaml:6: spec.namespace: invalid namespace "tenants.a": must not contain dots`},
	}, {
		name: "unsupported version",
		in:   tenantDoc("team-a", `  kubernetesVersion: "1.20"`),
		want: []string{`tenants/team-a.yaml:6: spec.kubernetesVersion: unsupported Kubernetes version "1.20" (supported: 1.36, 1.37)`},
	}, {
		name: "unquoted version keeps its text",
		in:   tenantDoc("team-a", "  kubernetesVersion: 1.30"),
		want: []string{`tenants/team-a.yaml:6: spec.kubernetesVersion: unsupported Kubernetes version "1.30" (supported: 1.36, 1.37)`},
	}, {
		name: "malformed version",
		in:   tenantDoc("team-a", "  kubernetesVersion: latest"),
		want: []string{`tenants/team-a.yaml:6: spec.kubernetesVersion: invalid Kubernetes version "latest" (want a version like 1.37, v1.37 or v1.37.2)`},
	}, {
		name: "bad enums",
		in: tenantDoc("team-a",
			"  network:",
			"    isolation: Strict",
			"  deletionPolicy: Keep",
			"  drift:",
			"    mode: Ignore",
			"  expose:",
			"    type: Route"),
		want: []string{
			`tenants/team-a.yaml:7: spec.network.isolation: unsupported value "Strict" (must be Isolated or None)`,
			`tenants/team-a.yaml:8: spec.deletionPolicy: unsupported value "Keep" (must be Retain or Delete)`,
			`tenants/team-a.yaml:10: spec.drift.mode: unsupported value "Ignore" (must be Correct or DetectOnly)`,
			`tenants/team-a.yaml:12: spec.expose.type: unsupported value "Route" (must be ClusterIP, NodePort, LoadBalancer or Ingress)`,
		},
	}, {
		name: "ingress needs a valid host",
		in:   tenantDoc("team-a", "  expose:", "    type: Ingress"),
		want: []string{`tenants/team-a.yaml:6: spec.expose.host: required when expose.type is Ingress`},
	}, {
		name: "external datastore needs a Secret",
		in:   tenantDoc("team-a", "  datastore:", "    type: Postgres"),
		want: []string{`tenants/team-a.yaml:6: spec.datastore.secretRef.name: required when type is Postgres: a Secret in the tenant's namespace holding the connection string`},
	}, {
		name: "datastore type and key",
		in:   tenantDoc("team-a", "  datastore:", "    type: Etcd", "    secretRef: {name: db, key: 'a/b'}"),
		want: []string{
			`tenants/team-a.yaml:7: spec.datastore.type: unsupported value "Etcd" (must be SQLite, Postgres or MySQL)`,
			`tenants/team-a.yaml:8: spec.datastore.secretRef: only for type Postgres or MySQL`,
		},
	}, {
		name: "datastore bad Secret key",
		in:   tenantDoc("team-a", "  datastore:", "    type: MySQL", "    secretRef: {name: db, key: 'a/b'}"),
		want: []string{`tenants/team-a.yaml:8: spec.datastore.secretRef.key: invalid Secret key "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`},
	}, {
		name: "invalid ingress host",
		in:   tenantDoc("team-a", "  expose:", "    type: Ingress", "    host: Team_A.example.com"),
		want: []string{`tenants/team-a.yaml:8: spec.expose.host: invalid host "Team_A.example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`},
	}, {
		name: "owners",
		in: tenantDoc("team-a",
			"  owners:",
			"    - kind: User",
			"      name: alice",
			"    - kind: ServiceAccount",
			"      name: bot",
			"    - name: carol",
			"    - kind: Group"),
		want: []string{
			`tenants/team-a.yaml:9: spec.owners[1].kind: unsupported value "ServiceAccount" (must be User or Group)`,
			`tenants/team-a.yaml:11: spec.owners[2].kind: required (must be User or Group)`,
			`tenants/team-a.yaml:12: spec.owners[3].name: required`,
		},
	}, {
		name: "policies",
		in: tenantDoc("team-a",
			"  policies:",
			"    - template: K8sRequiredLabels",
			"      enforcementAction: block",
			"    - enforcementAction: warn",
			"      parameters: {ratio: .inf}"),
		want: []string{
			`tenants/team-a.yaml:8: spec.policies[0].enforcementAction: unsupported value "block" (must be deny, warn or dryrun)`,
			`tenants/team-a.yaml:9: spec.policies[1].template: required (the ConstraintTemplate's kind)`,
			`tenants/team-a.yaml:10: spec.policies[1].parameters.ratio: .inf cannot be represented in JSON`,
		},
	}, {
		name: "wrong types",
		in: tenantDoc("team-a",
			`  paused: "yes"`,
			"  owners:",
			"    kind: User",
			"  namespace: true",
			"  sync:",
			"    ingresses: 1",
			"    nodes: [a]",
			"  network:",
			"    allowFromNamespaces: default"),
		want: []string{
			`tenants/team-a.yaml:6: spec.paused: expected a boolean (true or false), got string "yes"`,
			`tenants/team-a.yaml:8: spec.owners: expected a list, got a map`,
			`tenants/team-a.yaml:9: spec.namespace: expected a string, got boolean true`,
			`tenants/team-a.yaml:11: spec.sync.ingresses: expected a boolean (true or false), got number 1`,
			`tenants/team-a.yaml:12: spec.sync.nodes: expected a map, got a list`,
			`tenants/team-a.yaml:14: spec.network.allowFromNamespaces: expected a list, got string "default"`,
		},
	}, {
		name: "duplicate and merge keys",
		in:   tenantDoc("team-a", "  paused: true", "  paused: false", "  <<: {paused: true}"),
		want: []string{
			`tenants/team-a.yaml:7: spec: duplicate field "paused" (first set on line 6)`,
			`tenants/team-a.yaml:8: spec: merge keys (<<) are not supported`,
		},
	}, {
		name: "alias inside its own anchor",
		in:   tenantDoc("team-a", "  policies:", "    - template: T", "      parameters: &p", "        self: *p"),
		want: []string{`tenants/team-a.yaml:9: spec.policies[0].parameters.self: alias *p is used inside its own anchor`},
	}, {
		name: "labels",
		in: doc("apiVersion: tenantry.dev/v1alpha1", "kind: Tenant", "metadata:", "  name: team-a",
			"  labels:", "    team: a b", "    -bad: x"),
		want: []string{
			`tenants/team-a.yaml:6: metadata.labels.team: invalid label value "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
			`tenants/team-a.yaml:7: metadata.labels.-bad: invalid label key "-bad": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
		},
	}, {
		name: "all errors of a file, in line order",
		in: doc("apiVersion: tenantry.dev/v1alpha1", "kind: Tenant", "metadata:", "  name: team-b",
			"spec:", "  quota: {cpu: 2o}", "  kubernetesVersion: v1.20", "  extra: 1"),
		want: []string{
			`tenants/team-a.yaml:4: metadata.name: "team-b" does not match the file name team-a.yaml`,
			`tenants/team-a.yaml:6: spec.quota.cpu: invalid quantity "2o"`,
			`tenants/team-a.yaml:7: spec.kubernetesVersion: unsupported Kubernetes version "v1.20" (supported: 1.36, 1.37)`,
			`tenants/team-a.yaml:8: spec: unknown field "extra"`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tenant, errs := ParseTenant(file, []byte(tt.in))
			if tenant != nil {
				t.Errorf("ParseTenant returned a tenant for an invalid file")
			}
			if got := errorLines(errs); !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, e := range errs {
				if e.Path != file {
					t.Errorf("error %q has path %q", e, e.Path)
				}
			}
		})
	}
}

func TestParseTenantValid(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, tn *v1alpha1.Tenant)
	}{{
		name: "full",
		in: tenantDoc("team-a",
			"  namespace: team-a-ns",
			"  owners:",
			"    - {kind: User, name: alice}",
			"    - {kind: Group, name: admins}",
			"  kubernetesVersion: v1.36.1",
			"  quota:",
			"    cpu: 4",
			"    memory: 8Gi",
			"    count/deployments.apps: 10",
			"  limits: {max: {cpu: '2'}, min: {cpu: 10m}}",
			"  network: {isolation: None, allowFromNamespaces: [monitoring]}",
			"  policies:",
			"    - template: K8sRequiredLabels",
			"      enforcementAction: dryrun",
			"      parameters:",
			"        labels: [team, owner]",
			"        strict: true",
			"  sync: {ingresses: true, nodes: {enabled: true, nodeSelector: {pool: tenants}}}",
			"  expose: {type: LoadBalancer}",
			"  persistence: {size: 5Gi, storageClassName: fast}",
			"  paused: true",
			"  deletionPolicy: Delete",
			"  drift: {mode: DetectOnly}"),
		check: func(t *testing.T, tn *v1alpha1.Tenant) {
			s := tn.Spec
			if tn.HostNamespace() != "team-a-ns" || len(s.Owners) != 2 || s.Owners[1].Name != "admins" {
				t.Errorf("namespace/owners: %+v", s)
			}
			if s.KubernetesVersion != "v1.36.1" {
				t.Errorf("ParseTenant must keep the version as written, got %q", s.KubernetesVersion)
			}
			if q := s.Quota["count/deployments.apps"]; q.Value() != 10 {
				t.Errorf("quota: %v", s.Quota)
			}
			if got := string(s.Policies[0].Parameters.Raw); got != `{"labels":["team","owner"],"strict":true}` {
				t.Errorf("parameters: %s", got)
			}
			if !s.Paused || !s.Sync.Nodes.Enabled || s.Sync.Nodes.NodeSelector["pool"] != "tenants" {
				t.Errorf("sync/paused: %+v", s)
			}
			if s.Persistence.Size.Cmp(resource.MustParse("5Gi")) != 0 || s.Drift.Mode != v1alpha1.DriftDetectOnly {
				t.Errorf("persistence/drift: %+v", s)
			}
		},
	}, {
		name: "minimal, nothing defaulted",
		in:   tenantDoc("team-a", "  owners: [{kind: User, name: alice}]"),
		check: func(t *testing.T, tn *v1alpha1.Tenant) {
			if tn.Spec.KubernetesVersion != "" || tn.Spec.Network.Isolation != "" || tn.Status.SourcePath != "" {
				t.Errorf("ParseTenant must not default: %+v", tn)
			}
		},
	}, {
		name: "unquoted version, empty spec values, aliases",
		in: doc("---",
			"apiVersion: tenantry.dev/v1alpha1",
			"kind: Tenant",
			"metadata:",
			"  name: team-a",
			"  labels: {team: a}",
			"spec:",
			"  kubernetesVersion: 1.37",
			"  limits:",
			"  quota: &q {cpu: 1}",
			"  persistence: {size: ~}",
			"---"),
		check: func(t *testing.T, tn *v1alpha1.Tenant) {
			if tn.Spec.KubernetesVersion != "1.37" || tn.Labels["team"] != "a" || tn.Spec.Limits != nil {
				t.Errorf("got %+v", tn)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn, errs := ParseTenant("tenants/team-a.yaml", []byte(tt.in))
			if errs != nil {
				t.Fatalf("unexpected errors:\n%v", errs)
			}
			if tn.Name != "team-a" || tn.APIVersion != v1alpha1.APIVersion || tn.Kind != v1alpha1.Kind {
				t.Errorf("type/name: %+v", tn)
			}
			tt.check(t, tn)
		})
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		err  FieldError
		want string
	}{
		{FieldError{Path: "tenants/a.yaml", Line: 12, Field: "spec.quota.cpu", Msg: "bad"}, "tenants/a.yaml:12: spec.quota.cpu: bad"},
		{FieldError{Path: "tenants/a.yaml", Line: 3, Msg: "bad"}, "tenants/a.yaml:3: bad"},
		{FieldError{Path: "tenants/a.yaml", Msg: "bad"}, "tenants/a.yaml: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	errs := FieldErrors{tests[0].err, tests[1].err}
	if got := errs.Error(); got != tests[0].want+"\n"+tests[1].want {
		t.Errorf("FieldErrors: %q", got)
	}
}
