package controlplane

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigDefaults(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "tenant-team")
	dir := t.TempDir()
	path := filepath.Join(dir, "vcluster.yaml")
	writeTestFile(t, path, "name: team\nserviceName: vc\nkubeconfigSecret: vc-kubeconfig\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Name: "team", HostNamespace: "tenant-team", DataDir: DefaultDataDir, BinDir: DefaultBinDir,
		APIPort: 6443, DNSPort: 1053, ProbePort: 8080, ServiceCIDR: "10.96.0.0/12",
		ServiceName: "vc", KubeconfigSecret: "vc-kubeconfig", DNSUpstream: cfg.DNSUpstream,
	}
	if cfg.HostNamespace != want.HostNamespace || cfg.DataDir != want.DataDir || cfg.BinDir != want.BinDir ||
		cfg.APIPort != want.APIPort || cfg.DNSPort != want.DNSPort || cfg.ProbePort != want.ProbePort ||
		cfg.ServiceCIDR != want.ServiceCIDR {
		t.Fatalf("defaults:\ngot  %+v\nwant %+v", cfg, want)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	const base = "name: t\nhostNamespace: n\nserviceName: vc\nkubeconfigSecret: s\n"
	tests := []struct {
		name, yaml string
		invalid    bool
	}{
		{"missing fields", "name: team\n", true},
		{"bad owner kind", "name: t\nhostNamespace: n\nserviceName: vc\nkubeconfigSecret: s\nowners: [{kind: Robot, name: r}]\n", true},
		{"bad CIDR", "name: t\nhostNamespace: n\nserviceName: vc\nkubeconfigSecret: s\nserviceCIDR: nope\n", true},
		{"unknown field", "name: t\nhostNamespace: n\nserviceName: vc\nkubeconfigSecret: s\nbogus: 1\n", false},
		{"token lifetime above a day", base + "tokens: {expirationSeconds: 86401}\n", true},
		{"token lifetime below TokenRequest's minimum", base + "tokens: {expirationSeconds: 599}\n", true},
		{"token refresh after the default expiry", base + "tokens: {refreshSeconds: 3600}\n", true},
		{"token refresh after the expiry", base + "tokens: {expirationSeconds: 600, refreshSeconds: 601}\n", true},
		{"negative token refresh", base + "tokens: {refreshSeconds: -1}\n", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "vcluster.yaml")
			writeTestFile(t, path, tc.yaml)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrInvalidConfig) != tc.invalid {
				t.Fatalf("errors.Is(ErrInvalidConfig) = %v for %v", !tc.invalid, err)
			}
		})
	}
}

func TestResolvConfUpstream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	writeTestFile(t, path, "search svc.cluster.local\nnameserver 10.96.0.10\nnameserver 8.8.8.8\noptions ndots:5\n")
	if got := resolvConfUpstream(path); got != "10.96.0.10:53" {
		t.Fatalf("upstream %q", got)
	}
	if got := resolvConfUpstream(filepath.Join(t.TempDir(), "missing")); got != "" {
		t.Fatalf("missing file: upstream %q", got)
	}
}

func writeTestFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLoadConfigDatastore: an external datastore's connection string comes from the
// environment alone, is taken out of it, must match the type, and is never quoted in an error.
func TestLoadConfigDatastore(t *testing.T) {
	const base = "name: t\nhostNamespace: n\nserviceName: vc\nkubeconfigSecret: s\n"
	const secret = "s3cr3t-password"
	tests := []struct {
		name, yaml, env string
		wantErr         bool
	}{
		{name: "SQLite", yaml: base},
		{name: "Postgres", yaml: base + "datastoreType: Postgres\n", env: "postgres://kine:" + secret + "@db/kine"},
		{name: "postgresql scheme", yaml: base + "datastoreType: Postgres\n", env: "postgresql://kine:" + secret + "@db/kine"},
		{name: "MySQL", yaml: base + "datastoreType: MySQL\n", env: "mysql://kine:" + secret + "@tcp(db:3306)/kine"},
		{name: "Postgres without its string", yaml: base + "datastoreType: Postgres\n", wantErr: true},
		{name: "wrong scheme", yaml: base + "datastoreType: Postgres\n", env: "mysql://kine:" + secret + "@db/kine", wantErr: true},
		{name: "string with SQLite", yaml: base, env: "postgres://kine:" + secret + "@db/kine", wantErr: true},
		{name: "unknown type", yaml: base + "datastoreType: Etcd\n", env: "http://" + secret, wantErr: true},
		{name: "string in the config file is refused", yaml: base + "datastore: postgres://kine:" + secret + "@db/kine\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(DatastoreEnv, tc.env)
			path := filepath.Join(t.TempDir(), "vcluster.yaml")
			writeTestFile(t, path, tc.yaml)
			cfg, err := LoadConfig(path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the connection string: %v", err)
			}
			if _, set := os.LookupEnv(DatastoreEnv); set {
				t.Fatalf("%s is still in the environment after LoadConfig", DatastoreEnv)
			}
			if err == nil && cfg.Datastore != tc.env {
				t.Fatalf("Datastore %q, want %q", cfg.Datastore, tc.env)
			}
		})
	}
}

func TestLoadConfigTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vcluster.yaml")
	writeTestFile(t, path, "name: t\nhostNamespace: n\nserviceName: vc\nkubeconfigSecret: s\ntokens: {expirationSeconds: 600, refreshSeconds: 20}\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tokens.ExpirationSeconds != 600 || cfg.Tokens.RefreshSeconds != 20 {
		t.Errorf("tokens %+v", cfg.Tokens)
	}
}
