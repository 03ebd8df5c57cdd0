package source

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// Errors returned by New for unusable URLs or credentials.
var (
	ErrUnsupportedURL = errors.New("unsupported git URL")
	ErrNoSSHKey       = errors.New("ssh requires a private key")
	ErrAmbiguousAuth  = errors.New("set either a bearer token or a password, not both")
)

// remote is a parsed, credential-free URL and the go-git auth for it.
type remote struct {
	url      string // passed to go-git, never holds credentials
	display  string // safe for messages
	auth     transport.AuthMethod
	caBundle []byte
	redactor redactor
}

// newRemote parses rawURL and builds the transport auth from a. Userinfo
// in an http(s) URL is moved into basic auth and stripped from the URL.
func newRemote(rawURL string, a Auth) (*remote, error) {
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		// The parser's message quotes the URL, which may hold credentials.
		return nil, fmt.Errorf("%w: cannot parse the URL", ErrUnsupportedURL)
	}
	red := newRedactor(a, ep.User, ep.Password)
	switch ep.Protocol {
	case "http", "https":
		return newHTTPRemote(ep, a, red)
	case "ssh":
		return newSSHRemote(rawURL, ep, a, red)
	case "file":
		return &remote{url: rawURL, display: rawURL, redactor: red}, nil
	}
	return nil, red.errorf("%w: scheme %q (use https, http, ssh or file)", ErrUnsupportedURL, ep.Protocol)
}

func newHTTPRemote(ep *transport.Endpoint, a Auth, red redactor) (*remote, error) {
	if a.Username == "" && a.Password == "" {
		a.Username, a.Password = ep.User, ep.Password
	}
	clean := *ep
	clean.User, clean.Password = "", ""
	r := &remote{url: clean.String(), display: clean.String(), caBundle: a.CABundle, redactor: red}
	switch {
	case a.BearerToken != "" && a.Password != "":
		return nil, red.errorf("%s: %w", r.display, ErrAmbiguousAuth)
	case a.BearerToken != "":
		r.auth = &githttp.TokenAuth{Token: a.BearerToken}
	case a.Username != "" || a.Password != "":
		r.auth = &githttp.BasicAuth{Username: a.Username, Password: a.Password}
	}
	return r, nil
}

func newSSHRemote(rawURL string, ep *transport.Endpoint, a Auth, red redactor) (*remote, error) {
	display := red.redact(rawURL)
	if ep.Password != "" {
		return nil, red.errorf("%w: %s: passwords in ssh URLs are not supported", ErrUnsupportedURL, display)
	}
	if len(a.SSHPrivateKey) == 0 {
		return nil, red.errorf("%s: %w", display, ErrNoSSHKey)
	}
	keys, err := newHostKeys(a.KnownHosts)
	if err != nil {
		return nil, red.errorf("%s: %w", display, err)
	}
	user := ep.User
	if user == "" {
		user = "git"
	}
	pk, err := gitssh.NewPublicKeys(user, a.SSHPrivateKey, a.SSHKeyPassphrase)
	if err != nil {
		return nil, red.errorf("%s: parse ssh private key: %w", display, err)
	}
	pk.HostKeyCallback = keys.callback
	auth := &sshAuth{PublicKeys: pk, algorithms: keys.algorithms(hostWithPort(ep))}
	return &remote{url: rawURL, display: display, auth: auth, redactor: red}, nil
}

func hostWithPort(ep *transport.Endpoint) string {
	port := ep.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(ep.Host, strconv.Itoa(port))
}

// sshAuth is go-git public-key auth that also restricts the negotiated
// host key algorithms to the ones known_hosts can verify.
type sshAuth struct {
	*gitssh.PublicKeys
	algorithms []string
}

// ClientConfig implements gitssh.AuthMethod.
func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeys.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("ssh client config: %w", err)
	}
	if len(a.algorithms) > 0 {
		cfg.HostKeyAlgorithms = a.algorithms
	}
	return cfg, nil
}
