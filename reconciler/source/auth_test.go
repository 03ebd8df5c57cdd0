package source

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var secretAuth = Auth{
	Username:         "user-secret-1",
	Password:         "pass-secret-2",
	BearerToken:      "token-secret-3",
	SSHPrivateKey:    []byte("key-secret-4"),
	SSHKeyPassphrase: "phrase-secret-5",
	KnownHosts:       []byte("hosts-secret-6"),
	CABundle:         []byte("ca-secret-7"),
}

func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, "secret") {
		t.Errorf("%s leaks a credential: %s", what, s)
	}
}

func TestAuthIsRedactedWhenPrinted(t *testing.T) {
	opts := Options{URL: "https://example.com/x", Auth: secretAuth}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		assertNoSecrets(t, format, fmt.Sprintf(format, secretAuth))
		assertNoSecrets(t, format+" of pointer", fmt.Sprintf(format, &secretAuth))
		assertNoSecrets(t, format+" of Options", fmt.Sprintf(format, opts))
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		slog.New(h).Info("configured", "auth", secretAuth, "authPtr", &secretAuth)
	}
	assertNoSecrets(t, "slog", buf.String())
	if !strings.Contains(secretAuth.String(), "Password:"+redacted) {
		t.Errorf("String should name set fields: %s", secretAuth)
	}
	if got := (Auth{}).String(); got != "Auth{}" || !(Auth{}).IsZero() || secretAuth.IsZero() {
		t.Errorf("empty auth: %q", got)
	}
}

func TestAuthFromDir(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		FileUsername:    "alice\n",
		FilePassword:    "pw\r\n",
		FileBearerToken: "tok",
		FileSSHKey:      "KEY\n",
		FileKnownHosts:  "host ssh-ed25519 AAAA\n",
		FileCA:          "CA",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a, err := AuthFromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := Auth{Username: "alice", Password: "pw", BearerToken: "tok", SSHPrivateKey: []byte("KEY\n"),
		KnownHosts: []byte("host ssh-ed25519 AAAA\n"), CABundle: []byte("CA")}
	if fmt.Sprint(a.Username, a.Password, a.BearerToken, a.SSHKeyPassphrase, string(a.SSHPrivateKey), string(a.KnownHosts), string(a.CABundle)) !=
		fmt.Sprint(want.Username, want.Password, want.BearerToken, want.SSHKeyPassphrase, string(want.SSHPrivateKey), string(want.KnownHosts), string(want.CABundle)) {
		t.Errorf("AuthFromDir read wrong values")
	}
	if _, err := AuthFromDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing directory: want error")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub", FilePassword), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := AuthFromDir(filepath.Join(dir, "sub")); err == nil {
		t.Error("unreadable credential file: want error")
	}
}

func TestAuthFromEnv(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	hosts := filepath.Join(dir, "kh")
	if err := os.WriteFile(key, []byte("KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hosts, []byte("HOSTS"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvUsername, "bob")
	t.Setenv(EnvPassword, "pw")
	t.Setenv(EnvBearerToken, "tok")
	t.Setenv(EnvSSHKeyFile, key)
	t.Setenv(EnvKnownHosts, hosts)
	t.Setenv(EnvSSHPassphrase, "")
	t.Setenv(EnvCAFile, "")
	a, err := AuthFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if a.Username != "bob" || a.Password != "pw" || a.BearerToken != "tok" ||
		string(a.SSHPrivateKey) != "KEY" || string(a.KnownHosts) != "HOSTS" || a.CABundle != nil {
		t.Errorf("AuthFromEnv read wrong values")
	}
	t.Setenv(EnvSSHKeyFile, filepath.Join(dir, "missing"))
	if _, err := AuthFromEnv(); err == nil {
		t.Error("missing key file: want error")
	}
}

func TestErrorsRedactURLCredentials(t *testing.T) {
	tests := []struct {
		name string
		url  string
		auth Auth
	}{
		{"userinfo", "https://alice:hunter2-secret@127.0.0.1:1/repo.git", Auth{}},
		{"token as user", "https://ghp_secret@127.0.0.1:1/repo.git", Auth{}},
		{"password", "https://127.0.0.1:1/repo.git", Auth{Username: "alice", Password: "hunter2-secret"}},
		{"token", "https://127.0.0.1:1/repo.git", Auth{BearerToken: "tok-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSource(t, Options{URL: tt.url, Auth: tt.auth})
			if strings.Contains(s.remote.url, "secret") {
				t.Fatalf("credentials left in the URL given to go-git: %s", s.remote.url)
			}
			_, _, err := s.Fetch(t.Context())
			if err == nil {
				t.Fatal("Fetch from a closed port succeeded")
			}
			assertNoSecrets(t, "error", err.Error())
			if !strings.Contains(err.Error(), "127.0.0.1:1") {
				t.Errorf("error should name the (redacted) URL: %v", err)
			}
		})
	}
	_, err := New(Options{URL: "https://alice:pa ss-secret@exa mple.com/%zz"})
	if err == nil {
		t.Fatal("unparsable URL accepted")
	}
	assertNoSecrets(t, "parse error", err.Error())
}

func TestRedactor(t *testing.T) {
	r := newRedactor(Auth{Username: "u", Password: "p@ss word-secret"})
	msg := r.redact(`GET https://u:p%40ss+word-secret@h/x failed: p@ss word-secret; p%40ss%20word-secret; ` +
		`Authorization: Basic dTpwQHNzIHdvcmQtc2VjcmV0; see ssh://git:x@host/y`)
	assertNoSecrets(t, "redacted message", msg)
	if strings.Contains(msg, "git:x@") {
		t.Errorf("URL userinfo kept: %s", msg)
	}
}
