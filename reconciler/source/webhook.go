package source

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
)

// MaxHookBody is the largest webhook body accepted.
const MaxHookBody = 1 << 20

// Webhook paths served by NewReceiver.
const (
	GitHubHookPath = "/hook/github"
	GitLabHookPath = "/hook/gitlab"
)

// receiver turns authenticated push webhooks into fetch triggers.
type receiver struct {
	secret  []byte
	trigger chan<- struct{}
}

// NewReceiver returns a handler for GitHub (GitHubHookPath, HMAC-SHA256
// signed with secret) and GitLab (GitLabHookPath, X-Gitlab-Token equal to
// secret) webhooks. A push sends on trigger without blocking; a GitHub
// ping answers 200 and other events 202, both without a trigger. Requests
// that are not POST get 405, unauthenticated ones 401. An empty secret
// rejects every request.
func NewReceiver(secret []byte, trigger chan<- struct{}) http.Handler {
	r := &receiver{secret: append([]byte(nil), secret...), trigger: trigger}
	mux := http.NewServeMux()
	mux.HandleFunc(GitHubHookPath, r.github)
	mux.HandleFunc(GitLabHookPath, r.gitlab)
	return mux
}

func (r *receiver) github(w http.ResponseWriter, req *http.Request) {
	body, ok := r.readBody(w, req)
	if !ok {
		return
	}
	if !r.validGitHubSignature(req.Header.Get("X-Hub-Signature-256"), body) {
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	switch req.Header.Get("X-GitHub-Event") {
	case "push":
		r.fire(w)
	case "ping":
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

func (r *receiver) gitlab(w http.ResponseWriter, req *http.Request) {
	if _, ok := r.readBody(w, req); !ok {
		return
	}
	token := []byte(req.Header.Get("X-Gitlab-Token"))
	if len(r.secret) == 0 || subtle.ConstantTimeCompare(token, r.secret) != 1 {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	switch req.Header.Get("X-Gitlab-Event") {
	case "Push Hook", "Tag Push Hook":
		r.fire(w)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// readBody enforces POST and the size limit, answering the request itself
// when it returns false.
func (r *receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, bool) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, MaxHookBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	case err != nil:
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}

// validGitHubSignature checks "sha256=<hex HMAC-SHA256 of body>".
func (r *receiver) validGitHubSignature(header string, body []byte) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(r.secret) == 0 {
		return false
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, r.secret)
	mac.Write(body)
	return hmac.Equal(sig, mac.Sum(nil))
}

// fire sends a trigger without blocking and answers 200.
func (r *receiver) fire(w http.ResponseWriter) {
	select {
	case r.trigger <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusOK)
}
