package source

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables read by AuthFromEnv.
const (
	EnvUsername      = "TENANTRY_GIT_USERNAME"
	EnvPassword      = "TENANTRY_GIT_PASSWORD"
	EnvBearerToken   = "TENANTRY_GIT_BEARER_TOKEN"
	EnvSSHKeyFile    = "TENANTRY_GIT_SSH_KEY_FILE"
	EnvSSHPassphrase = "TENANTRY_GIT_SSH_KEY_PASSPHRASE"
	EnvKnownHosts    = "TENANTRY_GIT_KNOWN_HOSTS_FILE"
	EnvCAFile        = "TENANTRY_GIT_CA_FILE"
)

// File names read by AuthFromDir: the keys of a Kubernetes Secret mounted
// as a volume (Flux's GitRepository secret layout).
const (
	FileUsername      = "username"
	FilePassword      = "password"
	FileBearerToken   = "bearerToken"
	FileSSHKey        = "identity"
	FileSSHPassphrase = "passphrase"
	FileKnownHosts    = "known_hosts"
	FileCA            = "ca.crt"
)

// Auth holds the credentials for the tenants repo. Its String, GoString and
// LogValue methods only say which fields are set, so printing or logging an
// Auth (or a struct holding one) never reveals a secret.
type Auth struct {
	// Username and Password are used for HTTP basic auth.
	Username string
	Password string
	// BearerToken is sent as "Authorization: Bearer" over HTTP(S).
	BearerToken string
	// SSHPrivateKey is a PEM or OpenSSH private key for ssh URLs,
	// optionally encrypted with SSHKeyPassphrase.
	SSHPrivateKey    []byte
	SSHKeyPassphrase string
	// KnownHosts is the known_hosts content used to verify SSH host keys.
	// It is required for ssh URLs.
	KnownHosts []byte
	// CABundle holds extra PEM CA certificates trusted for HTTPS.
	CABundle []byte
}

const redacted = "[redacted]"

// fields lists every field with a redacted marker or "" when unset.
func (a Auth) fields() [][2]string {
	mark := func(set bool) string {
		if set {
			return redacted
		}
		return ""
	}
	return [][2]string{
		{"Username", mark(a.Username != "")},
		{"Password", mark(a.Password != "")},
		{"BearerToken", mark(a.BearerToken != "")},
		{"SSHPrivateKey", mark(len(a.SSHPrivateKey) > 0)},
		{"SSHKeyPassphrase", mark(a.SSHKeyPassphrase != "")},
		{"KnownHosts", mark(len(a.KnownHosts) > 0)},
		{"CABundle", mark(len(a.CABundle) > 0)},
	}
}

// String returns a redacted form listing only the fields that are set.
func (a Auth) String() string {
	var set []string
	for _, f := range a.fields() {
		if f[1] != "" {
			set = append(set, f[0]+":"+f[1])
		}
	}
	return "Auth{" + strings.Join(set, " ") + "}"
}

// GoString returns the same redacted form as String, for %#v.
func (a Auth) GoString() string { return "source." + a.String() }

// LogValue implements slog.LogValuer with the redacted form.
func (a Auth) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, f := range a.fields() {
		if f[1] != "" {
			attrs = append(attrs, slog.String(f[0], f[1]))
		}
	}
	return slog.GroupValue(attrs...)
}

// IsZero reports whether a holds no credentials at all.
func (a Auth) IsZero() bool {
	for _, f := range a.fields() {
		if f[1] != "" {
			return false
		}
	}
	return true
}

// AuthFromEnv reads credentials from the TENANTRY_GIT_* environment
// variables. The SSH key, known_hosts and CA variables name files. Unset
// variables leave their field empty.
func AuthFromEnv() (Auth, error) {
	a := Auth{
		Username:         os.Getenv(EnvUsername),
		Password:         os.Getenv(EnvPassword),
		BearerToken:      os.Getenv(EnvBearerToken),
		SSHKeyPassphrase: os.Getenv(EnvSSHPassphrase),
	}
	files := []struct {
		env string
		dst *[]byte
	}{
		{EnvSSHKeyFile, &a.SSHPrivateKey},
		{EnvKnownHosts, &a.KnownHosts},
		{EnvCAFile, &a.CABundle},
	}
	for _, f := range files {
		path := os.Getenv(f.env)
		if path == "" {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return Auth{}, fmt.Errorf("read %s: %w", f.env, err)
		}
		*f.dst = b
	}
	return a, nil
}

// AuthFromDir reads credentials from a directory with one file per field,
// the layout of a mounted Kubernetes Secret: username, password,
// bearerToken, identity, passphrase, known_hosts and ca.crt. Missing files
// leave their field empty; a trailing newline is trimmed from the string
// fields.
func AuthFromDir(dir string) (Auth, error) {
	if _, err := os.Stat(dir); err != nil {
		return Auth{}, fmt.Errorf("credentials directory: %w", err)
	}
	var a Auth
	var errs []error
	str := func(name string, dst *string) {
		b, err := readOptional(dir, name)
		errs = append(errs, err)
		*dst = strings.TrimRight(string(b), "\r\n")
	}
	raw := func(name string, dst *[]byte) {
		b, err := readOptional(dir, name)
		errs = append(errs, err)
		*dst = b
	}
	str(FileUsername, &a.Username)
	str(FilePassword, &a.Password)
	str(FileBearerToken, &a.BearerToken)
	str(FileSSHPassphrase, &a.SSHKeyPassphrase)
	raw(FileSSHKey, &a.SSHPrivateKey)
	raw(FileKnownHosts, &a.KnownHosts)
	raw(FileCA, &a.CABundle)
	if err := errors.Join(errs...); err != nil {
		return Auth{}, err
	}
	return a, nil
}

// readOptional reads dir/name, returning nil without error when it does
// not exist.
func readOptional(dir, name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read credential %s: %w", name, err)
	}
	return b, nil
}
