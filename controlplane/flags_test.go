package controlplane

import (
	"slices"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/internal/supervise"
)

func TestComponentFlags(t *testing.T) {
	cfg := testConfig()
	cfg.Default()
	p := &PKI{Dir: "/data/pki"}
	tests := []struct {
		spec supervise.Spec
		want []string
	}{
		{cfg.kineSpec(2379), []string{"--endpoint=sqlite:///data/kine.db?_journal_mode=WAL&_busy_timeout=30000&_txlock=immediate&_stmt_cache_size=20", "--listen-address=127.0.0.1:2379", "--metrics-bind-address=0"}},
		{cfg.apiServerSpec(p, 2379, "10.244.0.7"), []string{
			"--etcd-servers=http://127.0.0.1:2379", "--secure-port=6443", "--advertise-address=10.244.0.7",
			"--service-cluster-ip-range=10.96.0.0/12", "--endpoint-reconciler-type=none", "--authorization-mode=Node,RBAC",
			"--client-ca-file=/data/pki/ca.crt", "--service-account-signing-key-file=/data/pki/sa.key",
			"--service-account-extend-token-expiration=false",
		}},
		{cfg.controllerManagerSpec(p, "/data/pki/cm.kubeconfig", 10257), []string{
			"--controllers=" + controllers,
			"--use-service-account-credentials", "--service-account-private-key-file=/data/pki/sa.key", "--root-ca-file=/data/pki/ca.crt",
		}},
	}
	for _, tc := range tests {
		for _, flag := range tc.want {
			if !slices.Contains(tc.spec.Args, flag) {
				t.Errorf("%s: flag %s missing from %v", tc.spec.Name, flag, tc.spec.Args)
			}
		}
	}
	if got := cfg.kineSpec(1).Args; !slices.ContainsFunc(got, func(a string) bool { return strings.HasPrefix(a, "--endpoint=sqlite://") }) {
		t.Errorf("SQLite datastore: args %v", got)
	}
	cfg.Datastore = "postgres://kine:secret@db/kine"
	spec := cfg.kineSpec(1)
	if !slices.Equal(spec.Env, []string{"GOGC=25", "KINE_ENDPOINT=postgres://kine:secret@db/kine"}) || slices.ContainsFunc(spec.Args, func(a string) bool { return strings.Contains(a, "secret") }) {
		t.Errorf("external datastore: env %v, args %v; want the connection string in the environment only", spec.Env, spec.Args)
	}
}
