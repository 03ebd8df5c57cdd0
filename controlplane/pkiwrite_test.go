package controlplane

import (
	"bytes"
	"crypto/tls"
	"net"
	"os"
	"testing"
)

func testSANs() SANs {
	return SANs{DNSNames: []string{"localhost", "vc.tenant-team.svc"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
}

// TestEnsurePKIReissuesATornPair: a crash between writePair's renames leaves a new key
// beside the old certificate (or an old key beside a new one); EnsurePKI detects it and
// reissues, so kube-apiserver never starts with a pair that does not match.
func TestEnsurePKIReissuesATornPair(t *testing.T) {
	for _, tc := range []struct {
		name, pair string
	}{
		{"serving certificate", "apiserver"},
		{"client certificate", "admin"},
		{"CA", "ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sans := testSANs()
			if _, err := EnsurePKI(dir, sans); err != nil {
				t.Fatal(err)
			}
			p := &PKI{Dir: dir}
			other := "controller-manager"
			if tc.pair == "ca" {
				other = "front-proxy-ca"
			}
			// Tear the pair: another pair's key beside this certificate.
			foreign, err := os.ReadFile(p.Path(other + ".key"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p.Path(tc.pair+".key"), foreign, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := p.loadPair(tc.pair); !reissuable(err) {
				t.Fatalf("loading a torn pair: %v, want a mismatch", err)
			}
			if _, err := EnsurePKI(dir, sans); err != nil {
				t.Fatalf("EnsurePKI over a torn pair: %v", err)
			}
			for _, name := range []string{tc.pair, "apiserver", "admin"} {
				cert, _ := os.ReadFile(p.Path(name + ".crt"))
				key, _ := os.ReadFile(p.Path(name + ".key"))
				if _, err := tls.X509KeyPair(cert, key); err != nil {
					t.Errorf("%s after EnsurePKI: %v", name, err)
				}
			}
			if key, _ := os.ReadFile(p.Path(tc.pair + ".key")); bytes.Equal(key, foreign) {
				t.Error("the torn key was kept, not reissued")
			}
		})
	}
}

// TestEnsurePKIRegeneratesATornServiceAccountKey: sa.key and sa.pub that are not one
// pair are written again.
func TestEnsurePKIRegeneratesATornServiceAccountKey(t *testing.T) {
	dir := t.TempDir()
	sans := testSANs()
	if _, err := EnsurePKI(dir, sans); err != nil {
		t.Fatal(err)
	}
	p := &PKI{Dir: dir}
	if !p.serviceAccountKeyMatches() {
		t.Fatal("a fresh service account key pair does not match")
	}
	pub, _ := os.ReadFile(p.Path("sa.pub"))
	if err := os.Remove(p.Path("sa.key")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p.Path("sa.pub"), p.Path("sa.key")); err != nil { // garbage in place of the key
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path("sa.pub"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	if p.serviceAccountKeyMatches() {
		t.Fatal("a torn service account key pair reads as matching")
	}
	if _, err := EnsurePKI(dir, sans); err != nil {
		t.Fatal(err)
	}
	if !p.serviceAccountKeyMatches() {
		t.Fatal("EnsurePKI left a torn service account key pair")
	}
}

// TestWritePairLeavesNoTemporaryFiles: every write ends in a rename.
func TestWritePairLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := EnsurePKI(dir, testSANs()); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if bytes.HasSuffix([]byte(e.Name()), []byte(".tmp")) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
