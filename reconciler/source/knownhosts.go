package source

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// ErrNoKnownHosts is returned for an ssh URL without known_hosts: host keys
// are always verified.
var ErrNoKnownHosts = errors.New("ssh requires known_hosts: host keys are always verified")

// hostKeys verifies SSH host keys against known_hosts content.
type hostKeys struct {
	callback ssh.HostKeyCallback
	db       *knownhosts.HostKeyDB
}

// newHostKeys parses known_hosts content. It fails when the content is
// empty or holds no host key.
func newHostKeys(knownHosts []byte) (*hostKeys, error) {
	if err := checkKnownHosts(knownHosts); err != nil {
		return nil, err
	}
	db, err := loadKnownHosts(knownHosts)
	if err != nil {
		return nil, err
	}
	return &hostKeys{callback: db.HostKeyCallback(), db: db}, nil
}

// checkKnownHosts makes sure the content parses and has at least one key.
func checkKnownHosts(knownHosts []byte) error {
	rest := bytes.TrimSpace(knownHosts)
	if len(rest) == 0 {
		return ErrNoKnownHosts
	}
	keys := 0
	for len(rest) > 0 {
		_, _, _, _, next, err := ssh.ParseKnownHosts(rest)
		if err != nil {
			break // only trailing blank or comment lines remain
		}
		keys++
		rest = next
	}
	if keys == 0 {
		return fmt.Errorf("%w: no host key found", ErrNoKnownHosts)
	}
	return nil
}

// loadKnownHosts builds the database. The knownhosts packages only read
// files, so the (public) content goes through a temporary file.
func loadKnownHosts(knownHosts []byte) (*knownhosts.HostKeyDB, error) {
	f, err := os.CreateTemp("", "tenantry-known-hosts-*")
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	_, werr := f.Write(knownHosts)
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	db, err := knownhosts.NewDB(f.Name())
	if err != nil {
		return nil, fmt.Errorf("parse known_hosts: %w", err)
	}
	return db, nil
}

// algorithms returns the host key algorithms known for hostWithPort, so
// the server is asked for a key type that known_hosts can verify.
func (h *hostKeys) algorithms(hostWithPort string) []string {
	return h.db.HostKeyAlgorithms(hostWithPort)
}
