package framework

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Requests counts the API requests made through the configs it tracks, and how many of
// them have not been answered yet: what a client still has in flight is observable, so a
// test need not sleep to let it land. A write, once sent, is always waited for: its
// context's cancellation no longer abandons it (the server would finish it unseen), and a
// request whose context ended before it was sent is not sent.
type Requests struct {
	mu         sync.Mutex
	sent, open int
}

// Track returns a copy of cfg whose requests r counts (every client built from it: an
// agent's host client and its event recorder alike).
func (r *Requests) Track(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{r: r, next: rt} })
	return c
}

// WaitAnswered waits until every request sent so far has been answered (or has failed),
// and returns how many were sent. Clients that stopped (an agent closed, its context
// cancelled) send no more, so after it nothing of theirs reaches the server.
func (r *Requests) WaitAnswered(t testing.TB) int {
	t.Helper()
	var sent int
	Eventually(t, 30*time.Second, "the tracked clients' requests to be answered", func() (bool, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		sent = r.sent
		return r.open == 0, fmt.Errorf("%d of %d requests open", r.open, r.sent)
	})
	return sent
}

type countingTransport struct {
	r    *Requests
	next http.RoundTripper
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	if req.Method != http.MethodGet {
		req = req.WithContext(context.WithoutCancel(req.Context()))
	}
	c.r.mu.Lock()
	c.r.sent++
	c.r.open++
	c.r.mu.Unlock()
	defer func() {
		c.r.mu.Lock()
		c.r.open--
		c.r.mu.Unlock()
	}()
	return c.next.RoundTrip(req)
}
