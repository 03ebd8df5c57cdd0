package policy

import (
	"strings"
	"testing"
)

func TestValidateParameters(t *testing.T) {
	tests := []struct {
		name    string
		kind    string
		params  map[string]any
		wantErr []string // substrings the error must contain; nil means valid
	}{
		{
			name:   "repos: good",
			kind:   "K8sAllowedRepos",
			params: map[string]any{"repos": []string{"registry.example.com/team-a", "ghcr.io/tenantry/"}},
		},
		{
			name:    "repos: wrong type",
			kind:    "K8sAllowedRepos",
			params:  map[string]any{"repos": "registry.example.com/team-a"},
			wantErr: []string{`parameters.repos: Invalid value: "string"`, "must be of type array"},
		},
		{
			name:    "repos: wrong item type",
			kind:    "K8sAllowedRepos",
			params:  map[string]any{"repos": []any{"ok", 3}},
			wantErr: []string{"parameters.repos[1]", "must be of type string"},
		},
		{
			name:    "repos: empty prefix",
			kind:    "K8sAllowedRepos",
			params:  map[string]any{"repos": []string{""}},
			wantErr: []string{"parameters.repos[0]"},
		},
		{
			name:    "repos: required",
			kind:    "K8sAllowedRepos",
			params:  nil,
			wantErr: []string{"parameters.repos: Required value"},
		},
		{
			name:    "repos: unknown field",
			kind:    "K8sAllowedRepos",
			params:  map[string]any{"repos": []string{"x/"}, "repo": []string{"y/"}},
			wantErr: []string{"parameters.repo: Forbidden: unknown field"},
		},
		{
			name:   "host paths: good",
			kind:   "K8sHostPaths",
			params: map[string]any{"allowedPrefixes": []string{"/var/log"}, "readOnly": true},
		},
		{
			name:   "host paths: no parameters",
			kind:   "K8sHostPaths",
			params: nil,
		},
		{
			name:    "host paths: readOnly not boolean",
			kind:    "K8sHostPaths",
			params:  map[string]any{"readOnly": "yes"},
			wantErr: []string{"parameters.readOnly", "must be of type boolean"},
		},
		{
			name:    "host paths: relative prefix",
			kind:    "K8sHostPaths",
			params:  map[string]any{"allowedPrefixes": []string{"var/log"}},
			wantErr: []string{"parameters.allowedPrefixes[0]"},
		},
		{
			name: "required labels: good",
			kind: "K8sRequiredLabels",
			params: map[string]any{"labels": []any{
				map[string]any{"key": "tenantry.io/tenant", "allowedRegex": "team-[a-z]+"},
				map[string]any{"key": "app.kubernetes.io/name"},
			}},
		},
		{
			name:    "required labels: missing key",
			kind:    "K8sRequiredLabels",
			params:  map[string]any{"labels": []any{map[string]any{"allowedRegex": ".*"}}},
			wantErr: []string{"parameters.labels[0].key: Required value"},
		},
		{
			name:    "required labels: unknown nested field",
			kind:    "K8sRequiredLabels",
			params:  map[string]any{"labels": []any{map[string]any{"key": "a", "regex": ".*"}}},
			wantErr: []string{"parameters.labels[0].regex: Forbidden: unknown field"},
		},
		{
			name:   "ingress hosts: good",
			kind:   "K8sAllowedIngressHosts",
			params: map[string]any{"hosts": []string{"*.team-a.example.com", "exact.example.com"}},
		},
		{
			name:    "ingress hosts: wildcard inside a label",
			kind:    "K8sAllowedIngressHosts",
			params:  map[string]any{"hosts": []string{"app-*.example.com"}},
			wantErr: []string{"parameters.hosts[0]", "should match"},
		},
		{
			name:    "ingress hosts: double wildcard",
			kind:    "K8sAllowedIngressHosts",
			params:  map[string]any{"hosts": []string{"*.*.example.com"}},
			wantErr: []string{"parameters.hosts[0]"},
		},
		{
			name:   "no-parameter template: none given",
			kind:   "K8sBlockNodePort",
			params: map[string]any{},
		},
		{
			name:    "no-parameter template: unknown field",
			kind:    "K8sBlockNodePort",
			params:  map[string]any{"allowed": true},
			wantErr: []string{"parameters.allowed: Forbidden: unknown field"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateParameters(libraryTemplate(t, tt.kind), tt.params)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ValidateParameters() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateParameters() = nil, want error containing %q", tt.wantErr)
			}
			t.Logf("error: %v", err)
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("ValidateParameters() = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestValidateParametersRejectsNonTemplate(t *testing.T) {
	obj := mustObject(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
	if err := ValidateParameters(obj, nil); err == nil {
		t.Fatal("ValidateParameters() accepted a ConfigMap as template")
	}
}
