package source

import (
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

const (
	httpUser     = "alice"
	httpPassword = "correct-horse-secret"
	httpToken    = "bearer-token-secret"
)

// gitHTTPServer serves root with the real git http-backend over TLS,
// requiring basic auth or the bearer token. It returns the server URL and
// the PEM CA of its certificate.
func gitHTTPServer(t *testing.T, root string) (string, []byte) {
	t.Helper()
	backend := httpBackend(t)
	cgiHandler := &cgi.Handler{
		Path: backend,
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	srv := httptest.NewUnstartedServer(requireAuth(cgiHandler))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected TLS failures
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return srv.URL, ca
}

func httpBackend(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git http-backend unavailable: git binary not found: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("git http-backend unavailable: %v", err)
	}
	return backend
}

func requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		basicOK := ok && user == httpUser && pass == httpPassword
		tokenOK := r.Header.Get("Authorization") == "Bearer "+httpToken
		if !basicOK && !tokenOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestHTTPSAuth(t *testing.T) {
	root := t.TempDir()
	repo := newTestRepoAt(t, filepath.Join(root, "tenants"))
	h := repo.commit("init", map[string]string{"tenants/a.yaml": "a"})
	base, ca := gitHTTPServer(t, root)
	url := base + "/tenants"
	hostURL := strings.TrimPrefix(base, "https://")

	good := []struct {
		name string
		url  string
		auth Auth
	}{
		{"basic auth", url, Auth{Username: httpUser, Password: httpPassword, CABundle: ca}},
		{"bearer token", url, Auth{BearerToken: httpToken, CABundle: ca}},
		{"userinfo in URL", "https://" + httpUser + ":" + httpPassword + "@" + hostURL + "/tenants", Auth{CABundle: ca}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			s := newSource(t, Options{URL: tt.url, Auth: tt.auth})
			a, _ := fetch(t, s)
			if a.Revision != "main@sha1:"+h.String() || readFile(t, a.Path, "tenants/a.yaml") != "a" {
				t.Fatalf("artifact %+v", a)
			}
			if _, changed := fetch(t, s); changed || s.lsRemotes.Load() != 1 {
				t.Fatalf("second fetch changed=%v ls-remotes=%d", changed, s.lsRemotes.Load())
			}
		})
	}

	bad := []struct {
		name string
		url  string
		auth Auth
		want error // nil: only an error
	}{
		{"wrong password", url, Auth{Username: httpUser, Password: "wrong-password-secret", CABundle: ca}, transport.ErrAuthenticationRequired},
		{"wrong password in URL", "https://" + httpUser + ":wrong-secret@" + hostURL + "/tenants", Auth{CABundle: ca}, transport.ErrAuthenticationRequired},
		{"wrong token", url, Auth{BearerToken: "wrong-token-secret", CABundle: ca}, transport.ErrAuthenticationRequired},
		{"no credentials", url, Auth{CABundle: ca}, transport.ErrAuthenticationRequired},
		{"untrusted certificate", url, Auth{Username: httpUser, Password: httpPassword}, nil},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			s := newSource(t, Options{URL: tt.url, Auth: tt.auth})
			a, _, err := s.Fetch(t.Context())
			if err == nil {
				t.Fatalf("Fetch succeeded: %+v", a)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			assertNoSecrets(t, "error", err.Error())
			if strings.Contains(err.Error(), httpPassword) {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}
}

// TestHTTPSLastGoodSurvivesAuthFailure rotates the server's credentials
// away from under a working source.
func TestHTTPSLastGoodSurvivesAuthFailure(t *testing.T) {
	root := t.TempDir()
	repo := newTestRepoAt(t, filepath.Join(root, "tenants"))
	repo.commit("init", map[string]string{"a.yaml": "a"})
	base, ca := gitHTTPServer(t, root)
	auth := Auth{Username: httpUser, Password: httpPassword, CABundle: ca}
	s := newSource(t, Options{URL: base + "/tenants", Auth: auth})
	good, _ := fetch(t, s)

	s.remote.auth = nil // as if the secret had been revoked
	repo.commit("two", map[string]string{"a.yaml": "b"})
	if _, _, err := s.Fetch(t.Context()); err == nil {
		t.Fatal("Fetch without credentials succeeded")
	}
	if last := s.LastGood(); last == nil || *last != *good || readFile(t, last.Path, "a.yaml") != "a" {
		t.Fatalf("LastGood = %+v, want intact %+v", last, good)
	}
}
