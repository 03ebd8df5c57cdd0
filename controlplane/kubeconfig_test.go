package controlplane

import (
	"bytes"
	"os"
	"testing"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/pki"
)

// TestKubeconfigGolden renders the kubeconfig Secret's data with fixed credentials and
// compares it with testdata/*.golden. UPDATE_GOLDEN=1 rewrites the golden files.
func TestKubeconfigGolden(t *testing.T) {
	cfg := testConfig()
	cfg.Default()
	p := &PKI{
		CAPEM: []byte("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"),
		Admin: pki.KeyPair{CertPEM: []byte("ADMIN CERT"), KeyPEM: []byte("ADMIN KEY")},
	}
	data, err := cfg.kubeconfigSecretData(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 3 || !bytes.Equal(data[wellknown.SecretKeyCA], p.CAPEM) {
		t.Fatalf("secret keys %v", keys(data))
	}
	for key, golden := range map[string]string{
		wellknown.SecretKeyConfig:      "testdata/config.golden",
		wellknown.SecretKeyConfigLocal: "testdata/config-local.golden",
	} {
		t.Run(key, func(t *testing.T) { compareGolden(t, golden, data[key]) })
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (UPDATE_GOLDEN=1 rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
