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
	"time"
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
	if !postOnly(w, req) {
		return
	}
	sig, ok := r.githubSignature(req.Header.Get("X-Hub-Signature-256"))
	if !ok {
		// No well-formed signature (or no secret): refused before the body is read.
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	body, ok := readBody(w, req)
	if !ok {
		return
	}
	if !r.validGitHubSignature(sig, body) {
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

// gitlab authenticates by the X-Gitlab-Token header alone: the body is never read.
func (r *receiver) gitlab(w http.ResponseWriter, req *http.Request) {
	if !postOnly(w, req) {
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

// postOnly answers 405 to anything but POST.
func postOnly(w http.ResponseWriter, req *http.Request) bool {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	return true
}

// readBody reads at most MaxHookBody bytes (a larger declared length is refused unread),
// answering the request itself when it returns false.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, bool) {
	if req.ContentLength > MaxHookBody {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
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

// githubSignature decodes "sha256=<hex>" (32 bytes); false when malformed or when no
// secret is configured.
func (r *receiver) githubSignature(header string) ([]byte, bool) {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(r.secret) == 0 {
		return nil, false
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != sha256.Size {
		return nil, false
	}
	return sig, true
}

// validGitHubSignature checks sig against the HMAC-SHA256 of body.
func (r *receiver) validGitHubSignature(sig, body []byte) bool {
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

// Limits of the server in front of the receiver (and the agent's health and metrics): a
// slow or oversized client cannot hold a connection or memory for long.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverReadTimeout       = 30 * time.Second
	serverWriteTimeout      = 30 * time.Second
	serverIdleTimeout       = 2 * time.Minute
	serverMaxHeaderBytes    = 64 << 10
)

// NewServer returns an http.Server for addr with every timeout and a header size limit set.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: serverReadHeaderTimeout,
		ReadTimeout:       serverReadTimeout,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       serverIdleTimeout,
		MaxHeaderBytes:    serverMaxHeaderBytes,
	}
}
