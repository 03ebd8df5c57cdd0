package loader

import (
	"slices"
	"testing"
)

// TestControlPlaneMustFit: a tenant whose quota or container limits cannot hold its own
// virtual control plane is refused with the numbers; a LimitRange default below the
// control plane's is fine (the chart sets explicit requests and limits).
func TestControlPlaneMustFit(t *testing.T) {
	tests := []struct {
		name string
		spec []string
		want []string
	}{
		{name: "a 100m default CPU limit", spec: []string{"  limits:", "    default: {cpu: 100m}"}},
		{name: "a max CPU limit below the control plane's",
			spec: []string{"  limits:", "    max: {cpu: 500m, memory: 1Gi}"},
			want: []string{
				"tenants/team-a.yaml:7: spec.limits.max.cpu: 500m is below the virtual control plane's cpu limit 2",
				"tenants/team-a.yaml:7: spec.limits.max.memory: 1Gi is below the virtual control plane's memory limit 2Gi",
			}},
		{name: "a min request above the control plane's", spec: []string{"  limits:", "    min: {memory: 1Gi}"},
			want: []string{"tenants/team-a.yaml:7: spec.limits.min.memory: 1Gi is above the virtual control plane's memory request 512Mi"}},
		{name: "a CPU quota below the control plane's request", spec: []string{"  quota: {cpu: 100m}"},
			want: []string{"tenants/team-a.yaml:6: spec.quota.cpu: 100m cannot hold the tenant's virtual control plane, which needs requests.cpu 200m"}},
		{name: "a limits.cpu quota of one CPU, below its limit", spec: []string{"  quota:", "    limits.cpu: '1'"},
			want: []string{"tenants/team-a.yaml:7: spec.quota.limits.cpu: 1 cannot hold the tenant's virtual control plane, which needs limits.cpu 2"}},
		{name: "a limits.memory quota below its limit", spec: []string{"  quota:", "    limits.memory: 1Gi"},
			want: []string{"tenants/team-a.yaml:7: spec.quota.limits.memory: 1Gi cannot hold the tenant's virtual control plane, which needs limits.memory 2Gi"}},
		{name: "no pods", spec: []string{"  quota: {pods: '0'}"},
			want: []string{"tenants/team-a.yaml:6: spec.quota.pods: 0 cannot hold the tenant's virtual control plane, which needs pods 1"}},
		{name: "storage below the data volume", spec: []string{"  quota: {requests.storage: 1Gi}", "  persistence: {size: 5Gi}"},
			want: []string{"tenants/team-a.yaml:6: spec.quota.requests.storage: 1Gi cannot hold the tenant's virtual control plane, which needs requests.storage 5Gi"}},
		{name: "no volume, no storage needed", spec: []string{"  quota: {requests.storage: '0', persistentvolumeclaims: '0'}", "  persistence: {size: '0'}"}},
		{name: "an ephemeral-storage quota without a default", spec: []string{"  quota: {requests.ephemeral-storage: 10Gi}"},
			want: []string{"tenants/team-a.yaml:6: spec.quota.requests.ephemeral-storage: every pod must then declare requests.ephemeral-storage, which the virtual control plane does not: give spec.limits.default an ephemeral-storage (defaults.yaml may), or its pod is refused"}},
		{name: "an ephemeral-storage limit quota with only a default request", spec: []string{"  quota: {limits.ephemeral-storage: 10Gi}", "  limits:", "    defaultRequest: {ephemeral-storage: 1Gi}"},
			want: []string{"tenants/team-a.yaml:6: spec.quota.limits.ephemeral-storage: every pod must then declare limits.ephemeral-storage, which the virtual control plane does not: give spec.limits.default an ephemeral-storage (defaults.yaml may), or its pod is refused"}},
		{name: "an ephemeral-storage quota with a default", spec: []string{"  quota: {limits.ephemeral-storage: 10Gi}", "  limits:", "    default: {ephemeral-storage: 1Gi}"}},
		{name: "enough of everything", spec: []string{"  quota: {cpu: '4', memory: 8Gi, limits.cpu: '2', limits.memory: 4Gi, pods: '1', services: '1'}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := teamAErrors(loadTeamA(t, "", tenantDoc("team-a", tt.spec...)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}
