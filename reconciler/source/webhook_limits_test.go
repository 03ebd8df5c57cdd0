package source

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// countingBody records how many bytes the handler read.
type countingBody struct {
	r    io.Reader
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// TestReceiverAuthenticatesBeforeReading: an attacker without the secret cannot make the
// receiver read (or buffer) a body: GitLab's token and a well-formed GitHub signature are
// checked first, a declared oversized body is refused unread, and an undeclared one is
// cut at MaxHookBody.
func TestReceiverAuthenticatesBeforeReading(t *testing.T) {
	huge := strings.Repeat("x", 4*MaxHookBody)
	validSig := githubSig(hookSecret, "{}")
	for _, tc := range []struct {
		name          string
		path          string
		headers       map[string]string
		contentLength int64 // -1: unknown (chunked)
		code          int
		maxRead       int
	}{
		{"gitlab wrong token", GitLabHookPath, map[string]string{"X-Gitlab-Token": "nope", "X-Gitlab-Event": "Push Hook"}, -1, 401, 0},
		{"gitlab no token", GitLabHookPath, map[string]string{"X-Gitlab-Event": "Push Hook"}, -1, 401, 0},
		{"gitlab good token never reads", GitLabHookPath, map[string]string{"X-Gitlab-Token": hookSecret, "X-Gitlab-Event": "Push Hook"}, -1, 200, 0},
		{"github no signature", GitHubHookPath, map[string]string{"X-GitHub-Event": "push"}, -1, 401, 0},
		{"github malformed signature", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=nothex"}, -1, 401, 0},
		{"github declared too large", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": validSig}, int64(len(huge)), 413, 0},
		{"github undeclared too large", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": validSig}, -1, 413, MaxHookBody + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			trigger := make(chan struct{}, 1)
			body := &countingBody{r: strings.NewReader(huge)}
			req := httptest.NewRequest(http.MethodPost, tc.path, nil)
			req.Body, req.ContentLength = body, tc.contentLength
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			NewReceiver([]byte(hookSecret), trigger).ServeHTTP(rec, req)
			if rec.Code != tc.code {
				t.Errorf("status %d, want %d", rec.Code, tc.code)
			}
			if body.read > tc.maxRead {
				t.Errorf("read %d bytes of the body, want at most %d", body.read, tc.maxRead)
			}
			if len(trigger) == 1 && tc.code != 200 {
				t.Error("triggered a fetch")
			}
		})
	}
}

// TestNewServerSetsEveryLimit: not only ReadHeaderTimeout.
func TestNewServerSetsEveryLimit(t *testing.T) {
	srv := NewServer(":0", http.NotFoundHandler())
	for name, v := range map[string]int64{
		"ReadHeaderTimeout": int64(srv.ReadHeaderTimeout), "ReadTimeout": int64(srv.ReadTimeout),
		"WriteTimeout": int64(srv.WriteTimeout), "IdleTimeout": int64(srv.IdleTimeout),
		"MaxHeaderBytes": int64(srv.MaxHeaderBytes),
	} {
		if v <= 0 {
			t.Errorf("%s unset", name)
		}
	}
	if srv.ReadTimeout < srv.ReadHeaderTimeout || srv.MaxHeaderBytes > http.DefaultMaxHeaderBytes {
		t.Errorf("ReadTimeout %v < ReadHeaderTimeout %v, or MaxHeaderBytes %d above the default", srv.ReadTimeout, srv.ReadHeaderTimeout, srv.MaxHeaderBytes)
	}
}
