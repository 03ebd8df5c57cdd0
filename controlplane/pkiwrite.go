package controlplane

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tenantry/tenantry/internal/pki"
)

// errMismatch is a certificate whose key is not the one beside it: a crash between the
// two renames of writePair. The pair is issued again, as if missing.
var errMismatch = errors.New("certificate and key do not match")

// reissuable reports whether a pair failed to load only because it is missing or torn.
func reissuable(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, errMismatch)
}

// checkPair fails with errMismatch when the key is not the certificate's.
func checkPair(name string, certPEM, keyPEM []byte) error {
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return fmt.Errorf("%s: %w: %w", name, errMismatch, err)
	}
	return nil
}

// writePair writes both files to synced temporary files before renaming either, key
// first: a crash leaves the old pair, the new pair, or (between the renames) the new key
// beside the old certificate, which loadPair detects and EnsurePKI reissues.
func (p *PKI) writePair(name string, kp pki.KeyPair) error {
	keyPath, certPath := p.Path(name+".key"), p.Path(name+".crt")
	keyTmp, err := writeTemp(keyPath, kp.KeyPEM)
	if err != nil {
		return err
	}
	certTmp, err := writeTemp(certPath, kp.CertPEM)
	if err != nil {
		return err
	}
	if err := os.Rename(keyTmp, keyPath); err != nil {
		return fmt.Errorf("writing %s key: %w", name, err)
	}
	if err := os.Rename(certTmp, certPath); err != nil {
		return fmt.Errorf("writing %s certificate: %w", name, err)
	}
	return syncDir(p.Dir)
}

// writeFile writes atomically (synced temp file and rename), readable by the owner only.
func writeFile(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data to path.tmp and syncs it, so a rename never exposes a file a
// crash left empty.
func writeTemp(path string, data []byte) (string, error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	if err := errors.Join(werr, serr, f.Close()); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return tmp, nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// serviceAccountKeyMatches reports whether sa.key and sa.pub exist and hold one key pair
// (a crash between their writes leaves them apart).
func (p *PKI) serviceAccountKeyMatches() bool {
	keyPEM, kerr := os.ReadFile(p.Path("sa.key"))
	pubPEM, perr := os.ReadFile(p.Path("sa.pub"))
	return kerr == nil && perr == nil && pki.ServiceAccountKeyMatches(keyPEM, pubPEM)
}
