package localcluster

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/tenantry/tenantry/internal/pki"
)

// The local cluster's CA and certificates last a day: a cluster lives only as long as the
// process that started it, and its PKI is made anew each start.
const (
	caValidity   = 24 * time.Hour
	leafValidity = 24 * time.Hour
	caUsage      = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
)

func newCA(cn string) (*pki.CA, error) { return pki.NewCA(cn, caValidity, caUsage) }

// issueServing signs a server certificate for loopback and the given DNS names.
func issueServing(ca *pki.CA, cn string, dnsNames ...string) (pki.KeyPair, error) {
	return ca.Issue(pki.Serving(cn, append([]string{"localhost"}, dnsNames...), []net.IP{net.ParseIP("127.0.0.1")}), leafValidity)
}

// issueClient signs a client certificate; the apiserver reads user from CN and groups from O.
func issueClient(ca *pki.CA, user string, groups ...string) (pki.KeyPair, error) {
	return ca.Issue(pki.Client(user, groups...), leafValidity)
}

// writeServiceAccountKeys writes the key pair used to sign ServiceAccount tokens.
func writeServiceAccountKeys(keyPath, pubPath string) error {
	key, pub, err := pki.NewServiceAccountKey()
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		return fmt.Errorf("writing service account key: %w", err)
	}
	if err := os.WriteFile(pubPath, pub, 0o600); err != nil {
		return fmt.Errorf("writing service account public key: %w", err)
	}
	return nil
}

func writePair(kp pki.KeyPair, certPath, keyPath string) error {
	if err := os.WriteFile(certPath, kp.CertPEM, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", certPath, err)
	}
	if err := os.WriteFile(keyPath, kp.KeyPEM, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", keyPath, err)
	}
	return nil
}
