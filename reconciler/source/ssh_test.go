package source

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshGitServer is a minimal SSH server that runs the real git-upload-pack
// for one authorized client key.
type sshGitServer struct {
	t        *testing.T
	addr     string
	hostKeys []ssh.Signer
	config   *ssh.ServerConfig
	wg       sync.WaitGroup
}

func newSSHGitServer(t *testing.T, client ssh.PublicKey, hostKeys ...ssh.Signer) *sshGitServer {
	t.Helper()
	if _, err := exec.LookPath("git-upload-pack"); err != nil {
		if _, err := exec.LookPath("git"); err != nil {
			t.Skip("git-upload-pack unavailable: git binary not found")
		}
	}
	srv := &sshGitServer{t: t, hostKeys: hostKeys}
	srv.config = &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), client.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown client key")
		},
	}
	for _, k := range hostKeys {
		srv.config.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = ln.Addr().String()
	srv.wg.Add(1)
	go srv.serve(ln)
	t.Cleanup(func() {
		_ = ln.Close()
		srv.wg.Wait()
	})
	return srv
}

func (s *sshGitServer) serve(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handleConn(conn)
		}()
	}
}

func (s *sshGitServer) handleConn(conn net.Conn) {
	defer func() { _ = conn.Close() }()
	_, chans, reqs, err := ssh.NewServerConn(conn, s.config)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go s.handleSession(ch, chReqs)
	}
}

// handleSession answers one "exec git-upload-pack '<path>'" request.
func (s *sshGitServer) handleSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() { _ = ch.Close() }()
	for req := range reqs {
		if req.Type != "exec" {
			_ = req.Reply(req.Type == "env", nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			_ = req.Reply(false, nil)
			return
		}
		path, ok := strings.CutPrefix(payload.Command, "git-upload-pack ")
		if !ok {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		status := runUploadPack(ch, strings.Trim(path, "'"))
		_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
		return
	}
}

func runUploadPack(ch ssh.Channel, path string) uint32 {
	cmd := exec.Command("git", "upload-pack", path)
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 1
	}
	if err := cmd.Start(); err != nil {
		return 1
	}
	go func() {
		_, _ = io.Copy(stdin, ch)
		_ = stdin.Close()
	}()
	if err := cmd.Wait(); err != nil {
		return 1
	}
	return 0
}

func newSigner(t *testing.T, key crypto.Signer) ssh.Signer {
	t.Helper()
	s, err := ssh.NewSignerFromSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ed25519Key(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecdsaKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// privateKeyPEM encodes key in OpenSSH format, encrypted when passphrase
// is set.
func privateKeyPEM(t *testing.T, key crypto.PrivateKey, passphrase string) []byte {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(key, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

func knownHostsLine(addr string, key ssh.PublicKey) []byte {
	return []byte(knownhosts.Line([]string{addr}, key) + "\n")
}

func TestSSHFetch(t *testing.T) {
	repo := newTestRepo(t)
	h := repo.commit("init", map[string]string{"tenants/a.yaml": "a"})
	clientKey := ed25519Key(t)
	clientPub := newSigner(t, clientKey).PublicKey()
	hostEd := newSigner(t, ed25519Key(t))
	hostEC := newSigner(t, ecdsaKey(t))
	srv := newSSHGitServer(t, clientPub, hostEd, hostEC)
	url := "ssh://git@" + srv.addr + repo.dir
	identity := privateKeyPEM(t, clientKey, "")

	good := []struct {
		name string
		auth Auth
	}{
		// Each key type alone: the client must ask for the one it can verify.
		{"ed25519 host key", Auth{SSHPrivateKey: identity, KnownHosts: knownHostsLine(srv.addr, hostEd.PublicKey())}},
		{"ecdsa host key", Auth{SSHPrivateKey: identity, KnownHosts: knownHostsLine(srv.addr, hostEC.PublicKey())}},
		{"encrypted identity", Auth{
			SSHPrivateKey:    privateKeyPEM(t, clientKey, "phrase-secret"),
			SSHKeyPassphrase: "phrase-secret",
			KnownHosts:       knownHostsLine(srv.addr, hostEd.PublicKey()),
		}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			s := newSource(t, Options{URL: url, Auth: tt.auth})
			a, _ := fetch(t, s)
			if a.Revision != "main@sha1:"+h.String() || readFile(t, a.Path, "tenants/a.yaml") != "a" {
				t.Fatalf("artifact %+v", a)
			}
			if _, changed := fetch(t, s); changed || s.lsRemotes.Load() != 1 {
				t.Fatalf("second fetch changed=%v ls-remotes=%d", changed, s.lsRemotes.Load())
			}
		})
	}

	otherHost := newSigner(t, ed25519Key(t)).PublicKey()
	bad := []struct {
		name string
		auth Auth
		want string
	}{
		{"wrong host key", Auth{SSHPrivateKey: identity, KnownHosts: knownHostsLine(srv.addr, otherHost)}, "key mismatch"},
		{"host not in known_hosts", Auth{SSHPrivateKey: identity, KnownHosts: knownHostsLine("example.com", hostEd.PublicKey())}, "key is unknown"},
		{"unauthorized client key", Auth{SSHPrivateKey: privateKeyPEM(t, ed25519Key(t), ""), KnownHosts: knownHostsLine(srv.addr, hostEd.PublicKey())}, "unable to authenticate"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			s := newSource(t, Options{URL: url, Auth: tt.auth})
			a, _, err := s.Fetch(t.Context())
			if err == nil {
				t.Fatalf("Fetch succeeded: %+v", a)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestSSHScpStyleURL(t *testing.T) {
	key := privateKeyPEM(t, ed25519Key(t), "")
	hostKey := newSigner(t, ed25519Key(t)).PublicKey()
	s, err := New(Options{
		URL:  "git@github.com:org/tenants.git",
		Auth: Auth{SSHPrivateKey: key, KnownHosts: knownHostsLine("github.com", hostKey)},
	})
	if err != nil {
		t.Fatal(err)
	}
	auth, ok := s.remote.auth.(*sshAuth)
	if !ok || auth.User != "git" {
		t.Fatalf("auth %#v, want ssh public keys for user git", s.remote.auth)
	}
	if !slices.Equal(auth.algorithms, []string{ssh.KeyAlgoED25519}) {
		t.Errorf("host key algorithms %v, want only ed25519", auth.algorithms)
	}
}

func TestSSHHostKeyCallback(t *testing.T) {
	hostKey := newSigner(t, ed25519Key(t)).PublicKey()
	other := newSigner(t, ed25519Key(t)).PublicKey()
	content := append([]byte("# comment\n\n"), knownHostsLine("git.example.com:2222", hostKey)...)
	hk, err := newHostKeys(content)
	if err != nil {
		t.Fatal(err)
	}
	addr := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 2222}
	if err := hk.callback("git.example.com:2222", addr, hostKey); err != nil {
		t.Errorf("known key rejected: %v", err)
	}
	if err := hk.callback("git.example.com:2222", addr, other); err == nil {
		t.Error("changed host key accepted")
	}
	if err := hk.callback("git.example.com:22", addr, hostKey); err == nil {
		t.Error("key accepted for a host:port not in known_hosts")
	}
}

func TestSSHRequiresKnownHosts(t *testing.T) {
	key := privateKeyPEM(t, ed25519Key(t), "")
	for name, kh := range map[string][]byte{
		"none":          nil,
		"blank":         []byte("\n  \n"),
		"only comments": []byte("# nothing here\n"),
		"malformed":     []byte("github.com not-a-key\n"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(Options{URL: "ssh://git@github.com/org/repo.git", Auth: Auth{SSHPrivateKey: key, KnownHosts: kh}})
			if !errors.Is(err, ErrNoKnownHosts) {
				t.Fatalf("New error %v, want ErrNoKnownHosts", err)
			}
		})
	}
	_, err := New(Options{URL: "ssh://git@github.com/org/repo.git", Auth: Auth{SSHPrivateKey: []byte("garbage"), KnownHosts: knownHostsLine("github.com", newSigner(t, ed25519Key(t)).PublicKey())}})
	if err == nil {
		t.Error("unparsable private key accepted")
	}
}

func TestSSHEncryptedKeyWrongPassphrase(t *testing.T) {
	key := privateKeyPEM(t, ed25519Key(t), "right-secret")
	_, err := New(Options{URL: "ssh://git@github.com/org/repo.git", Auth: Auth{
		SSHPrivateKey: key, SSHKeyPassphrase: "wrong-secret",
		KnownHosts: knownHostsLine("github.com", newSigner(t, ed25519Key(t)).PublicKey()),
	}})
	if err == nil {
		t.Fatal("wrong passphrase accepted")
	}
	assertNoSecrets(t, "error", err.Error())
}
