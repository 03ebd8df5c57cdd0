package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixedTime makes payloads deterministic.
var fixedTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

const (
	testRev        = "main@sha1:0123456789abcdef0123456789abcdef01234567"
	repoToken      = "ghp_REPOSECRET123"
	secretOldValue = "aHVudGVyMg=="
	secretNewValue = "c2VjcmV0LXZhbHVl"
)

// secretsInFixtures must never appear in a payload, error or log.
var secretsInFixtures = []string{repoToken, secretOldValue, secretNewValue, "deploy:"}

func driftEvent() Event {
	return Event{
		Kind: KindDrift, Tenant: "team-a", Revision: testRev, Message: "drift corrected", Corrected: true, Time: fixedTime,
		Author: "Ada Lovelace <ada@example.com>", CommitMessage: "Raise team-a CPU quota\n\nRequested in PLAT-42.",
		RepoURL: "https://deploy:" + repoToken + "@github.com/acme/tenants.git",
		Objects: []ObjectDiff{
			{Object: "ResourceQuota/team-a/compute", Fields: []string{"spec.hard.cpu", "spec.hard.memory"},
				Changes: []FieldChange{{Path: "spec.hard.cpu", Old: "16", New: "8"}}},
			{Object: "Secret/team-a/db", Fields: []string{"data.password"},
				Changes: []FieldChange{{Path: "data.password", Old: secretOldValue, New: secretNewValue}}},
			{Object: "RoleBinding/team-a/admins", Fields: []string{"subjects"}},
		},
	}
}

func failureEvent() Event {
	return Event{
		Kind: KindFailure, Tenant: "team-b", Revision: testRev, Time: fixedTime,
		Message: `applying LimitRange/team-b/defaults: admission webhook "validation.gatekeeper.sh" denied the request: <cpu> & memory`,
		Author:  "Grace Hopper", CommitMessage: "Tighten team-b limits",
		RepoURL: "git@gitlab.com:acme/platform/tenants.git",
	}
}

func burst(n int) []Event {
	kinds := []Kind{KindDrift, KindFailure, KindDrift, KindRecovered, KindPruned}
	out := make([]Event, n)
	for i := range out {
		out[i] = Event{Kind: kinds[i%len(kinds)], Tenant: fmt.Sprintf("team-%02d", i), Revision: testRev,
			Message: fmt.Sprintf("event %d", i), Corrected: true, Time: fixedTime}
	}
	return out
}

// golden compares got with testdata/<name>.golden.json byte for byte; UPDATE_GOLDEN=1 rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with UPDATE_GOLDEN=1 to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("payload differs from %s at byte %d\n got: %s\nwant: %s", path, i, excerpt(got, i), excerpt(want, i))
	}
}

func excerpt(b []byte, i int) string {
	lo, hi := max(0, i-60), min(len(b), i+60)
	return fmt.Sprintf("…%s…", b[lo:hi])
}

// capture is an httptest server recording request bodies and headers.
type capture struct {
	srv     *httptest.Server
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
	paths   []string
	// respond writes the answer to request n (0-based); nil answers 200 "ok".
	respond func(n int, w http.ResponseWriter, r *http.Request, body []byte)
}

func newCapture(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request, body []byte)) *capture {
	t.Helper()
	c := &capture{respond: respond}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		n := len(c.bodies)
		c.bodies = append(c.bodies, body)
		c.headers = append(c.headers, r.Header.Clone())
		c.paths = append(c.paths, r.URL.RequestURI())
		c.mu.Unlock()
		if c.respond != nil {
			c.respond(n, w, r, body)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *capture) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.bodies)
}

func (c *capture) body(i int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bodies[i]
}

// recorder is an in-memory BatchNotifier.
type recorder struct {
	mu        sync.Mutex
	events    []Event
	summaries []Summary
	failNext  int           // fail this many deliveries
	block     chan struct{} // when set, deliveries wait for it (or ctx)
}

var errRecorder = errors.New("recorder failure")

func (r *recorder) wait(ctx context.Context) error {
	if r.block == nil {
		return nil
	}
	select {
	case <-r.block:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *recorder) Notify(ctx context.Context, e Event) error {
	if err := r.wait(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext > 0 {
		r.failNext--
		return errRecorder
	}
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) NotifySummary(ctx context.Context, s Summary) error {
	if err := r.wait(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failNext > 0 {
		r.failNext--
		return errRecorder
	}
	r.summaries = append(r.summaries, s)
	return nil
}

// messages is the number of messages delivered: events plus summaries.
func (r *recorder) messages() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events) + len(r.summaries)
}

func (r *recorder) snapshot() ([]Event, []Summary) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...), append([]Summary(nil), r.summaries...)
}

// fakeClock fires timers synchronously from Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: fixedTime} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.done
		t.done = true
		return was
	}
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	kept := c.timers[:0]
	for _, t := range c.timers {
		switch {
		case t.done:
		case !t.at.After(c.now):
			t.done = true
			due = append(due, t)
		default:
			kept = append(kept, t)
		}
	}
	c.timers = kept
	c.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.f()
	}
}

// waitIdle waits until every queued event has been delivered (or failed).
func (r *Router) waitIdle(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		r.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("deliveries did not finish")
	}
}

// assertNoSecrets fails when s holds any fixture secret or one of extra.
func assertNoSecrets(t *testing.T, what, s string, extra ...string) {
	t.Helper()
	for _, sec := range append(append([]string(nil), secretsInFixtures...), extra...) {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s leaks %q: %s", what, sec, s)
		}
	}
}
