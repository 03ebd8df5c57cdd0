// Package pki issues a Kubernetes control plane's credentials: a CA, serving and client
// certificates signed by it (P-256 keys), and the key that signs ServiceAccount tokens.
// Lifetimes and key usages are the caller's: the virtual control plane keeps its CAs for
// years, the local cluster's last a day.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// KeyPair is a PEM-encoded certificate and private key.
type KeyPair struct{ CertPEM, KeyPEM []byte }

// CA is a certificate authority that signs serving and client certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Pair is the CA's own certificate and key, PEM-encoded.
	Pair KeyPair
}

// NewCA creates a self-signed CA with a new P-256 key, valid from an hour ago for validity,
// with the given key usage (x509.KeyUsageCertSign at least).
func NewCA(cn string, validity time.Duration, usage x509.KeyUsage) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating %s key: %w", cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validity),
		KeyUsage: usage, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-signing %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", cn, err)
	}
	pair, err := encodePair(der, key)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, Pair: pair}, nil
}

// Leaf describes a certificate a CA signs.
type Leaf struct {
	CommonName string
	// Groups is the subject's organization: kube-apiserver reads a client's groups from it.
	Groups   []string
	DNSNames []string
	IPs      []net.IP
	// Usage is x509.ExtKeyUsageServerAuth or x509.ExtKeyUsageClientAuth.
	Usage x509.ExtKeyUsage
}

// Serving describes a server certificate for the given names and addresses.
func Serving(cn string, dnsNames []string, ips []net.IP) Leaf {
	return Leaf{CommonName: cn, DNSNames: dnsNames, IPs: ips, Usage: x509.ExtKeyUsageServerAuth}
}

// Client describes a client certificate: kube-apiserver reads the user from its common
// name and the groups from its organization.
func Client(user string, groups ...string) Leaf {
	return Leaf{CommonName: user, Groups: groups, Usage: x509.ExtKeyUsageClientAuth}
}

// Issue signs a certificate for leaf with a new P-256 key, valid from an hour ago for validity.
func (ca *CA) Issue(leaf Leaf, validity time.Duration) (KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generating key for %s: %w", leaf.CommonName, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: leaf.CommonName, Organization: leaf.Groups},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{leaf.Usage}, DNSNames: leaf.DNSNames, IPAddresses: leaf.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("signing %s: %w", leaf.CommonName, err)
	}
	return encodePair(der, key)
}

// NewServiceAccountKey generates the P-256 key pair that signs ServiceAccount tokens (ES256),
// PEM-encoded: the SEC 1 private key and the PKIX public key. An ES256 signature costs a
// small fraction of an RS256 one; RSA signing was an eighth of the virtual API server's CPU
// while the syncer requested a token for each of 1,000 new pods (bench/README.md).
func NewServiceAccountKey() (keyPEM, pubPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating service account key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding service account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding service account public key: %w", err)
	}
	return pemBlock("EC PRIVATE KEY", der), pemBlock("PUBLIC KEY", pub), nil
}

// ServiceAccountKeyMatches reports whether keyPEM and pubPEM hold one key pair: a P-256
// pair as NewServiceAccountKey encodes it, or the RSA pair (PKCS #1) that earlier releases
// wrote, which is kept so the tokens it signed stay valid.
func ServiceAccountKeyMatches(keyPEM, pubPEM []byte) bool {
	kb, _ := pem.Decode(keyPEM)
	pb, _ := pem.Decode(pubPEM)
	if kb == nil || pb == nil {
		return false
	}
	var key interface{ Public() crypto.PublicKey }
	var err error
	switch kb.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		return false
	}
	if err != nil {
		return false
	}
	pub, err := x509.ParsePKIXPublicKey(pb.Bytes)
	eq, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return err == nil && ok && eq.Equal(pub)
}

// ParseCert parses a PEM certificate.
func ParseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate: %w", err)
	}
	return cert, nil
}

// ParseECKey parses a PEM EC private key.
func ParseECKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "EC PRIVATE KEY" {
		return nil, errors.New("no PEM EC private key")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing key: %w", err)
	}
	return key, nil
}

func encodePair(der []byte, key *ecdsa.PrivateKey) (KeyPair, error) {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("encoding key: %w", err)
	}
	return KeyPair{CertPEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("EC PRIVATE KEY", keyDER)}, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}
