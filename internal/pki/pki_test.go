package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIssue(t *testing.T) {
	tests := []struct {
		name       string
		validity   time.Duration
		caUsage    x509.KeyUsage
		leaf       Leaf
		wantDNS    []string
		wantIPs    []string
		wantGroups []string
		wantUsage  x509.ExtKeyUsage
	}{
		{name: "virtual control plane serving", validity: 365 * 24 * time.Hour,
			caUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
			leaf:    Serving("kube-apiserver", []string{"localhost", "vc.tenant-a.svc"}, []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP("10.96.0.7")}),
			wantDNS: []string{"localhost", "vc.tenant-a.svc"}, wantIPs: []string{"127.0.0.1", "10.96.0.7"}, wantUsage: x509.ExtKeyUsageServerAuth},
		{name: "local cluster client", validity: 24 * time.Hour, caUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
			leaf:       Client("alice", "team-a", "system:authenticated"),
			wantGroups: []string{"team-a", "system:authenticated"}, wantUsage: x509.ExtKeyUsageClientAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ca, err := NewCA("test-ca", 2*tc.validity, tc.caUsage)
			if err != nil {
				t.Fatal(err)
			}
			if !ca.Cert.IsCA || ca.Cert.KeyUsage != tc.caUsage || !validFor(ca.Cert, 2*tc.validity) {
				t.Fatalf("CA: IsCA %v, usage %v, valid %s to %s", ca.Cert.IsCA, ca.Cert.KeyUsage, ca.Cert.NotBefore, ca.Cert.NotAfter)
			}
			if _, err := tls.X509KeyPair(ca.Pair.CertPEM, ca.Pair.KeyPEM); err != nil {
				t.Fatalf("CA pair: %v", err)
			}
			kp, err := ca.Issue(tc.leaf, tc.validity)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM); err != nil {
				t.Fatalf("leaf pair: %v", err)
			}
			cert, err := ParseCert(kp.CertPEM)
			if err != nil {
				t.Fatal(err)
			}
			key, err := ParseECKey(kp.KeyPEM)
			if err != nil {
				t.Fatal(err)
			}
			if key.Curve != elliptic.P256() || cert.PublicKey.(*ecdsa.PublicKey).Curve != elliptic.P256() {
				t.Fatal("the leaf key is not P-256")
			}
			if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
				t.Fatalf("not signed by the CA: %v", err)
			}
			ips := make([]string, 0, len(cert.IPAddresses))
			for _, ip := range cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			switch {
			case cert.Subject.CommonName != tc.leaf.CommonName || !slices.Equal(cert.Subject.Organization, tc.wantGroups):
				t.Errorf("subject %v", cert.Subject)
			case !slices.Equal(cert.DNSNames, tc.wantDNS) || !slices.Equal(ips, tc.wantIPs):
				t.Errorf("SANs %v %v", cert.DNSNames, ips)
			case !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{tc.wantUsage}):
				t.Errorf("extended key usage %v", cert.ExtKeyUsage)
			case cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment:
				t.Errorf("key usage %v", cert.KeyUsage)
			case !validFor(cert, tc.validity):
				t.Errorf("valid %s to %s, want %s from an hour ago", cert.NotBefore, cert.NotAfter, tc.validity)
			}
		})
	}
}

// validFor reports whether cert became valid about an hour ago and expires about validity from now.
func validFor(cert *x509.Certificate, validity time.Duration) bool {
	near := func(got, want time.Time) bool { return got.Sub(want).Abs() < time.Minute }
	return near(cert.NotBefore, time.Now().Add(-time.Hour)) && near(cert.NotAfter, time.Now().Add(validity))
}

func TestServiceAccountKey(t *testing.T) {
	key, pub, err := NewServiceAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	other, otherPub, err := NewServiceAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	legacy, legacyPub := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), pemBlock("PUBLIC KEY", rsaPub)
	tests := []struct {
		name     string
		key, pub []byte
		want     bool
	}{
		{"one pair", key, pub, true},
		{"an earlier release's RSA pair", legacy, legacyPub, true},
		{"RSA key, P-256 public key", legacy, pub, false},
		{"P-256 key, RSA public key", key, legacyPub, false},
		{"EC key under another PEM type", []byte(strings.Replace(string(key), "EC PRIVATE KEY", "PRIVATE KEY", 2)), pub, false},
		{"two pairs", key, otherPub, false},
		{"public key as private", pub, pub, false},
		{"missing", nil, pub, false},
		{"the other pair", other, otherPub, true},
	}
	for _, tc := range tests {
		if got := ServiceAccountKeyMatches(tc.key, tc.pub); got != tc.want {
			t.Errorf("%s: ServiceAccountKeyMatches = %v, want %v", tc.name, got, tc.want)
		}
	}
}
