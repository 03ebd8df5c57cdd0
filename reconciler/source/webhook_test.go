package source

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const hookSecret = "hook-secret"

func githubSig(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestReceiver(t *testing.T) {
	const body = `{"ref":"refs/heads/main"}`
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		code    int
		trigger bool
	}{
		{"github push", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": githubSig(hookSecret, body)}, body, 200, true},
		{"github ping", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": githubSig(hookSecret, body)}, body, 200, false},
		{"github other event", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": githubSig(hookSecret, body)}, body, 202, false},
		{"github wrong secret", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": githubSig("other", body)}, body, 401, false},
		{"github signature of other body", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": githubSig(hookSecret, body+" ")}, body, 401, false},
		{"github missing signature", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push"}, body, 401, false},
		{"github sha1 signature", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha1=" + strings.TrimPrefix(githubSig(hookSecret, body), "sha256=")}, body, 401, false},
		{"github bad hex", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=zz"}, body, 401, false},
		{"github GET", "GET", GitHubHookPath, nil, "", 405, false},
		{"github too large", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": githubSig(hookSecret, body)}, strings.Repeat("x", MaxHookBody+1), 413, false},
		{"github too large unsigned", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push"}, strings.Repeat("x", MaxHookBody+1), 401, false},
		{"github short signature", "POST", GitHubHookPath, map[string]string{"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=abcd"}, body, 401, false},
		{"gitlab push", "POST", GitLabHookPath, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": hookSecret}, body, 200, true},
		{"gitlab tag push", "POST", GitLabHookPath, map[string]string{"X-Gitlab-Event": "Tag Push Hook", "X-Gitlab-Token": hookSecret}, body, 200, true},
		{"gitlab other event", "POST", GitLabHookPath, map[string]string{"X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": hookSecret}, body, 202, false},
		{"gitlab wrong token", "POST", GitLabHookPath, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "nope"}, body, 401, false},
		{"gitlab token prefix", "POST", GitLabHookPath, map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": hookSecret[:4]}, body, 401, false},
		{"gitlab missing token", "POST", GitLabHookPath, map[string]string{"X-Gitlab-Event": "Push Hook"}, body, 401, false},
		{"gitlab PUT", "PUT", GitLabHookPath, map[string]string{"X-Gitlab-Token": hookSecret}, body, 405, false},
		{"unknown path", "POST", "/hook/bitbucket", nil, body, 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trigger := make(chan struct{}, 1)
			h := NewReceiver([]byte(hookSecret), trigger)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.code {
				t.Errorf("status %d, want %d (%s)", rec.Code, tt.code, rec.Body)
			}
			if got := len(trigger) == 1; got != tt.trigger {
				t.Errorf("triggered = %v, want %v", got, tt.trigger)
			}
		})
	}
}

func TestReceiverEmptySecretRejects(t *testing.T) {
	trigger := make(chan struct{}, 1)
	h := NewReceiver(nil, trigger)
	for _, req := range []*http.Request{
		githubRequest("", "{}"),
		gitlabRequest(""),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || len(trigger) != 0 {
			t.Errorf("%s with empty secret: status %d, triggered %v", req.URL.Path, rec.Code, len(trigger) == 1)
		}
	}
}

func TestReceiverTriggerDoesNotBlock(t *testing.T) {
	trigger := make(chan struct{}) // nobody receives
	h := NewReceiver([]byte(hookSecret), trigger)
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, githubRequest(hookSecret, "{}"))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
}

func githubRequest(secret, body string) *http.Request {
	req := httptest.NewRequest("POST", GitHubHookPath, strings.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", githubSig(secret, body))
	return req
}

func gitlabRequest(token string) *http.Request {
	req := httptest.NewRequest("POST", GitLabHookPath, strings.NewReader("{}"))
	req.Header.Set("X-Gitlab-Event", "Push Hook")
	req.Header.Set("X-Gitlab-Token", token)
	return req
}
