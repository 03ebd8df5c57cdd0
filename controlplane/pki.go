package controlplane

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Certificate lifetimes. A serving or client certificate is reissued at start when it
// expires within renewBefore; the CAs and the ServiceAccount key are kept for good.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
)

// User names of the client certificates the control plane issues.
const (
	AdminUser             = "tenantry:admin"
	ControllerManagerUser = "system:kube-controller-manager"
	frontProxyClientUser  = "front-proxy-client"
	// KubeletClientUser is kube-apiserver's client certificate to the syncer's kubelet API.
	KubeletClientUser = "kube-apiserver-kubelet-client"
)

// PKI is the virtual control plane's certificates and keys, persisted in one directory so a
// restart reuses them. Paths are exported for the components' flags.
type PKI struct {
	Dir string
	// CAPEM is the cluster CA: it signs the serving and client certificates.
	CAPEM []byte
	// Admin is the system:masters client certificate of the kubeconfig Secret and the syncer.
	Admin KeyPair
	// ControllerManager is kube-controller-manager's client certificate.
	ControllerManager KeyPair
	// KubeletServing is the syncer's kubelet API serving certificate, for 127.0.0.1.
	KubeletServing KeyPair
}

// KeyPair is a PEM-encoded certificate and private key.
type KeyPair struct{ CertPEM, KeyPEM []byte }

// SANs are the names the virtual API server's serving certificate covers.
type SANs struct {
	DNSNames []string
	IPs      []net.IP
}

// Path returns the path of a file of the PKI directory.
func (p *PKI) Path(name string) string { return filepath.Join(p.Dir, name) }

// EnsurePKI loads the PKI in dir, creating what is missing. The serving certificate is
// reissued when its SANs differ from sans (a new pod IP, a new external host).
func EnsurePKI(dir string, sans SANs) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating PKI dir: %w", err)
	}
	p := &PKI{Dir: dir}
	ca, err := p.ensureCA("ca", "tenantry-vcluster-ca")
	if err != nil {
		return nil, err
	}
	p.CAPEM = ca.certPEM
	frontProxyCA, err := p.ensureCA("front-proxy-ca", "tenantry-vcluster-front-proxy-ca")
	if err != nil {
		return nil, err
	}
	serving := leafSpec{cn: "kube-apiserver", dns: sans.DNSNames, ips: sans.IPs, usage: x509.ExtKeyUsageServerAuth}
	if _, err := p.ensureLeaf("apiserver", ca, serving); err != nil {
		return nil, err
	}
	if _, err := p.ensureLeaf("front-proxy-client", frontProxyCA, clientSpec(frontProxyClientUser)); err != nil {
		return nil, err
	}
	if p.Admin, err = p.ensureLeaf("admin", ca, clientSpec(AdminUser, "system:masters")); err != nil {
		return nil, err
	}
	if p.ControllerManager, err = p.ensureLeaf("controller-manager", ca, clientSpec(ControllerManagerUser)); err != nil {
		return nil, err
	}
	if err := p.ensureKubelet(ca); err != nil {
		return nil, err
	}
	if err := p.ensureServiceAccountKey(); err != nil {
		return nil, err
	}
	return p, nil
}

// ensureKubelet issues the syncer's kubelet API serving certificate and kube-apiserver's
// client certificate to it, both from the cluster CA: each end verifies the other.
func (p *PKI) ensureKubelet(ca *authority) error {
	serving := leafSpec{cn: "tenantry-kubelet-api", ips: []net.IP{net.IPv4(127, 0, 0, 1)}, usage: x509.ExtKeyUsageServerAuth}
	var err error
	if p.KubeletServing, err = p.ensureLeaf("kubelet-serving", ca, serving); err != nil {
		return err
	}
	_, err = p.ensureLeaf("kubelet-client", ca, clientSpec(KubeletClientUser))
	return err
}

// authority is a loaded CA.
type authority struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
}

// leafSpec describes a certificate signed by a CA.
type leafSpec struct {
	cn     string
	groups []string
	dns    []string
	ips    []net.IP
	usage  x509.ExtKeyUsage
}

func clientSpec(user string, groups ...string) leafSpec {
	return leafSpec{cn: user, groups: groups, usage: x509.ExtKeyUsageClientAuth}
}

func (p *PKI) ensureCA(name, cn string) (*authority, error) {
	if ca, err := p.loadCA(name); err == nil {
		return ca, nil
	} else if !reissuable(err) {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating %s key: %w", name, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-signing %s: %w", name, err)
	}
	kp, err := encodePair(der, key)
	if err != nil {
		return nil, err
	}
	if err := p.writePair(name, kp); err != nil {
		return nil, err
	}
	return p.loadCA(name)
}

func (p *PKI) loadCA(name string) (*authority, error) {
	kp, cert, key, err := p.loadPair(name)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key, certPEM: kp.CertPEM}, nil
}

// ensureLeaf returns the stored certificate when it still matches spec and is signed by
// ca, and issues a new one otherwise.
func (p *PKI) ensureLeaf(name string, ca *authority, spec leafSpec) (KeyPair, error) {
	kp, cert, _, err := p.loadPair(name)
	switch {
	case err == nil && leafMatches(cert, ca, spec):
		return kp, nil
	case err != nil && !reissuable(err):
		return KeyPair{}, err
	}
	if kp, err = issue(ca, spec); err != nil {
		return KeyPair{}, err
	}
	return kp, p.writePair(name, kp)
}

func leafMatches(cert *x509.Certificate, ca *authority, spec leafSpec) bool {
	if cert.CheckSignatureFrom(ca.cert) != nil || time.Until(cert.NotAfter) < renewBefore {
		return false
	}
	if cert.Subject.CommonName != spec.cn || !sameSet(cert.Subject.Organization, spec.groups) {
		return false
	}
	ips := make([]string, 0, len(spec.ips))
	for _, ip := range spec.ips {
		ips = append(ips, ip.String())
	}
	got := make([]string, 0, len(cert.IPAddresses))
	for _, ip := range cert.IPAddresses {
		got = append(got, ip.String())
	}
	return sameSet(cert.DNSNames, spec.dns) && sameSet(got, ips)
}

func issue(ca *authority, spec leafSpec) (KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generating key for %s: %w", spec.cn, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: spec.cn, Organization: spec.groups},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(leafValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{spec.usage}, DNSNames: spec.dns, IPAddresses: spec.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("signing %s: %w", spec.cn, err)
	}
	return encodePair(der, key)
}

// ensureServiceAccountKey writes the RSA key pair that signs ServiceAccount tokens once.
func (p *PKI) ensureServiceAccountKey() error {
	if p.serviceAccountKeyMatches() {
		return nil
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generating service account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("encoding service account public key: %w", err)
	}
	if err := writeFile(p.Path("sa.pub"), pemBlock("PUBLIC KEY", pub)); err != nil {
		return err
	}
	return writeFile(p.Path("sa.key"), pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)))
}

func (p *PKI) loadPair(name string) (KeyPair, *x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(p.Path(name + ".crt"))
	if err != nil {
		return KeyPair{}, nil, nil, fmt.Errorf("reading %s certificate: %w", name, err)
	}
	keyPEM, err := os.ReadFile(p.Path(name + ".key"))
	if err != nil {
		return KeyPair{}, nil, nil, fmt.Errorf("reading %s key: %w", name, err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return KeyPair{}, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	key, err := parseECKey(keyPEM)
	if err != nil {
		return KeyPair{}, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkPair(name, certPEM, keyPEM); err != nil {
		return KeyPair{}, nil, nil, err
	}
	return KeyPair{CertPEM: certPEM, KeyPEM: keyPEM}, cert, key, nil
}

func encodePair(der []byte, key *ecdsa.PrivateKey) (KeyPair, error) {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("encoding key: %w", err)
	}
	return KeyPair{CertPEM: pemBlock("CERTIFICATE", der), KeyPEM: pemBlock("EC PRIVATE KEY", keyDER)}, nil
}

func parseCert(data []byte) (*x509.Certificate, error) {
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

func parseECKey(data []byte) (*ecdsa.PrivateKey, error) {
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

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
