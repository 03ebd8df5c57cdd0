package controlplane

import (
	"errors"
	"os"
	"path/filepath"
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
