package framework

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tenantry/tenantry/notify"
)

// Hook is a chat or webhook endpoint for the agent's notifications: it answers every
// request with one status code and keeps the bodies it got.
type Hook struct {
	// URL is where to send notifications.
	URL    string
	mu     sync.Mutex
	bodies [][]byte
}

// NewHook starts a Hook that answers status (http.StatusOK, or an error code to play a
// failing provider); it stops when the test ends.
func NewHook(t testing.TB, status int) *Hook {
	t.Helper()
	h := &Hook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, buf.Bytes())
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// Bodies are the request bodies received so far, oldest first.
func (h *Hook) Bodies() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

// Events are the generic webhook's events (notify.Event bodies) of kind about tenant
// received so far, oldest first; other bodies are skipped.
func (h *Hook) Events(kind notify.Kind, tenant string) []notify.Event {
	var out []notify.Event
	for _, body := range h.Bodies() {
		var e notify.Event
		if json.Unmarshal(body, &e) == nil && e.Kind == kind && e.Tenant == tenant {
			out = append(out, e)
		}
	}
	return out
}
