package controlplane

import (
	"slices"
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
	cfg.Datastore = "postgres://db/kine"
	if got := cfg.kineSpec(1).Args[0]; got != "--endpoint=postgres://db/kine" {
		t.Errorf("external datastore: %s", got)
	}
}
