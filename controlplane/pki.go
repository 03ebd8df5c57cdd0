package controlplane

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tenantry/tenantry/internal/pki"
	"github.com/tenantry/tenantry/syncer/metricsapi"
)

// Certificate lifetimes. A serving or client certificate is reissued at start when it
// expires within renewBefore; the CAs and the ServiceAccount key are kept for good.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
)

// caUsage is the key usage of the cluster and front-proxy CAs.
const caUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign

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
	Admin pki.KeyPair
	// ControllerManager is kube-controller-manager's client certificate.
	ControllerManager pki.KeyPair
	// KubeletServing is the syncer's kubelet API serving certificate, for 127.0.0.1.
	KubeletServing pki.KeyPair
	// MetricsServing is the syncer's metrics API serving certificate, for the virtual
	// Service the virtual API server's aggregator names it by (metricsapi.ServerName).
	MetricsServing pki.KeyPair
	// FrontProxyCAPEM signs the virtual API server's front-proxy client certificate, the
	// one client the metrics API admits.
	FrontProxyCAPEM []byte
}

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
	p.CAPEM = ca.Pair.CertPEM
	frontProxyCA, err := p.ensureCA("front-proxy-ca", "tenantry-vcluster-front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if _, err := p.ensureLeaf("apiserver", ca, pki.Serving("kube-apiserver", sans.DNSNames, sans.IPs)); err != nil {
		return nil, err
	}
	p.FrontProxyCAPEM = frontProxyCA.Pair.CertPEM
	if _, err := p.ensureLeaf("front-proxy-client", frontProxyCA, pki.Client(frontProxyClientUser)); err != nil {
		return nil, err
	}
	metricsServing := pki.Serving("tenantry-metrics-api", []string{metricsapi.ServerName}, nil)
	if p.MetricsServing, err = p.ensureLeaf("metrics-serving", ca, metricsServing); err != nil {
		return nil, err
	}
	if p.Admin, err = p.ensureLeaf("admin", ca, pki.Client(AdminUser, "system:masters")); err != nil {
		return nil, err
	}
	if p.ControllerManager, err = p.ensureLeaf("controller-manager", ca, pki.Client(ControllerManagerUser)); err != nil {
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
func (p *PKI) ensureKubelet(ca *pki.CA) error {
	serving := pki.Serving("tenantry-kubelet-api", nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	var err error
	if p.KubeletServing, err = p.ensureLeaf("kubelet-serving", ca, serving); err != nil {
		return err
	}
	_, err = p.ensureLeaf("kubelet-client", ca, pki.Client(KubeletClientUser))
	return err
}

func (p *PKI) ensureCA(name, cn string) (*pki.CA, error) {
	if ca, err := p.loadCA(name); err == nil {
		return ca, nil
	} else if !reissuable(err) {
		return nil, err
	}
	ca, err := pki.NewCA(cn, caValidity, caUsage)
	if err != nil {
		return nil, err
	}
	if err := p.writePair(name, ca.Pair); err != nil {
		return nil, err
	}
	return p.loadCA(name)
}

func (p *PKI) loadCA(name string) (*pki.CA, error) {
	kp, cert, key, err := p.loadPair(name)
	if err != nil {
		return nil, err
	}
	return &pki.CA{Cert: cert, Key: key, Pair: kp}, nil
}

// ensureLeaf returns the stored certificate when it still matches leaf and is signed by
// ca, and issues a new one otherwise.
func (p *PKI) ensureLeaf(name string, ca *pki.CA, leaf pki.Leaf) (pki.KeyPair, error) {
	kp, cert, _, err := p.loadPair(name)
	switch {
	case err == nil && leafMatches(cert, ca, leaf):
		return kp, nil
	case err != nil && !reissuable(err):
		return pki.KeyPair{}, err
	}
	if kp, err = ca.Issue(leaf, leafValidity); err != nil {
		return pki.KeyPair{}, err
	}
	return kp, p.writePair(name, kp)
}

func leafMatches(cert *x509.Certificate, ca *pki.CA, leaf pki.Leaf) bool {
	if cert.CheckSignatureFrom(ca.Cert) != nil || time.Until(cert.NotAfter) < renewBefore {
		return false
	}
	if cert.Subject.CommonName != leaf.CommonName || !sameSet(cert.Subject.Organization, leaf.Groups) {
		return false
	}
	ips := make([]string, 0, len(leaf.IPs))
	for _, ip := range leaf.IPs {
		ips = append(ips, ip.String())
	}
	got := make([]string, 0, len(cert.IPAddresses))
	for _, ip := range cert.IPAddresses {
		got = append(got, ip.String())
	}
	return sameSet(cert.DNSNames, leaf.DNSNames) && sameSet(got, ips)
}

// ensureServiceAccountKey writes the key pair that signs ServiceAccount tokens once; a pair that
// already matches, RSA from an earlier release included, is kept so its tokens stay valid.
func (p *PKI) ensureServiceAccountKey() error {
	if p.serviceAccountKeyMatches() {
		return nil
	}
	key, pub, err := pki.NewServiceAccountKey()
	if err != nil {
		return err
	}
	if err := writeFile(p.Path("sa.pub"), pub); err != nil {
		return err
	}
	return writeFile(p.Path("sa.key"), key)
}

func (p *PKI) loadPair(name string) (pki.KeyPair, *x509.Certificate, crypto.Signer, error) {
	certPEM, err := os.ReadFile(p.Path(name + ".crt"))
	if err != nil {
		return pki.KeyPair{}, nil, nil, fmt.Errorf("reading %s certificate: %w", name, err)
	}
	keyPEM, err := os.ReadFile(p.Path(name + ".key"))
	if err != nil {
		return pki.KeyPair{}, nil, nil, fmt.Errorf("reading %s key: %w", name, err)
	}
	cert, err := pki.ParseCert(certPEM)
	if err != nil {
		return pki.KeyPair{}, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	key, err := pki.ParseECKey(keyPEM)
	if err != nil {
		return pki.KeyPair{}, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := checkPair(name, certPEM, keyPEM); err != nil {
		return pki.KeyPair{}, nil, nil, err
	}
	return pki.KeyPair{CertPEM: certPEM, KeyPEM: keyPEM}, cert, key, nil
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
