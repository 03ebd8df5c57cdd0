package controlplane

import (
	"bytes"
	"crypto/x509"
	"net"
	"os"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/internal/pki"
)

func testConfig() Config {
	return Config{Name: "team", HostNamespace: "tenant-team", ServiceName: "vc", KubeconfigSecret: "vc-kubeconfig",
		ExternalHosts: []string{"team.example.com", "203.0.113.9"}}
}

func TestServingSANs(t *testing.T) {
	cfg := testConfig()
	sans := cfg.ServingSANs("10.244.0.7", "10.96.12.34")
	for _, name := range []string{
		"localhost", "vc", "vc.tenant-team", "vc.tenant-team.svc", "vc.tenant-team.svc.cluster.local",
		"kubernetes.default.svc", "team.example.com",
	} {
		if !slices.Contains(sans.DNSNames, name) {
			t.Errorf("DNS SAN %q missing from %v", name, sans.DNSNames)
		}
	}
	for _, ip := range []string{"127.0.0.1", "10.244.0.7", "10.96.12.34", "203.0.113.9"} {
		if !slices.ContainsFunc(sans.IPs, net.ParseIP(ip).Equal) {
			t.Errorf("IP SAN %s missing from %v", ip, sans.IPs)
		}
	}
	if noPod := cfg.ServingSANs("", "10.96.12.34"); len(noPod.IPs) != 3 {
		t.Errorf("without a pod IP: IPs %v, want loopback, service and external", noPod.IPs)
	}
}

func TestEnsurePKIPersistsAndReuses(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	first, err := EnsurePKI(dir, cfg.ServingSANs("10.244.0.7", "10.96.12.34"))
	if err != nil {
		t.Fatal(err)
	}
	serving := readCert(t, first.Path("apiserver.crt"))
	if !slices.Contains(serving.DNSNames, "vc.tenant-team.svc") || serving.CheckSignatureFrom(readCert(t, first.Path("ca.crt"))) != nil {
		t.Fatalf("serving certificate: SANs %v, not signed by the CA", serving.DNSNames)
	}
	admin := readCert(t, first.Path("admin.crt"))
	if admin.Subject.CommonName != AdminUser || !slices.Equal(admin.Subject.Organization, []string{"system:masters"}) {
		t.Fatalf("admin subject %v", admin.Subject)
	}

	tests := []struct {
		name        string
		podIP       string
		wantServing bool // serving certificate kept
	}{
		{"same SANs", "10.244.0.7", true},
		{"new pod IP", "10.244.0.8", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(first.Path("apiserver.crt"))
			again, err := EnsurePKI(dir, cfg.ServingSANs(tc.podIP, "10.96.12.34"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.CAPEM, first.CAPEM) || !bytes.Equal(again.Admin.CertPEM, first.Admin.CertPEM) ||
				!bytes.Equal(again.ControllerManager.KeyPEM, first.ControllerManager.KeyPEM) {
				t.Fatal("the CA or the client certificates changed")
			}
			after, _ := os.ReadFile(again.Path("apiserver.crt"))
			if kept := bytes.Equal(before, after); kept != tc.wantServing {
				t.Fatalf("serving certificate kept = %v, want %v", kept, tc.wantServing)
			}
			if !slices.ContainsFunc(readCert(t, again.Path("apiserver.crt")).IPAddresses, net.ParseIP(tc.podIP).Equal) {
				t.Fatalf("pod IP %s not in the serving certificate", tc.podIP)
			}
		})
	}
}

func TestEnsurePKIKeepsServiceAccountKey(t *testing.T) {
	dir := t.TempDir()
	p, err := EnsurePKI(dir, SANs{})
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(p.Path("sa.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsurePKI(dir, SANs{}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(p.Path("sa.key"))
	if !bytes.Equal(before, after) {
		t.Fatal("the ServiceAccount signing key changed: every issued token would break")
	}
	info, _ := os.Stat(p.Path("ca.key"))
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key mode %v, want 0600", info.Mode().Perm())
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.ParseCert(data)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
