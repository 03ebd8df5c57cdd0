package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

const window = 10 * time.Second

func newTestRouter(t *testing.T, n Notifier, opts ...Option) (*Router, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	r, err := NewRouter(map[string]Notifier{"rec": n}, nil, append([]Option{WithClock(clk), WithBatchWindow(window)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, clk
}

// TestRouterDedupAndRecovery walks one tenant through drift, duplicates, failure and
// recovery; each step checks how many messages it produced.
func TestRouterDedupAndRecovery(t *testing.T) {
	drift := Event{Kind: KindDrift, Tenant: "team-a", Revision: testRev, Message: "drift corrected", Corrected: true,
		Objects: []ObjectDiff{{Object: "ConfigMap/team-a/x", Fields: []string{"data.k"}}}}
	driftOther := drift
	driftOther.Objects = []ObjectDiff{{Object: "ConfigMap/team-a/y", Fields: []string{"data.k"}}}
	failure := Event{Kind: KindFailure, Tenant: "team-a", Revision: testRev, Message: "apply failed"}
	newFailure := failure
	newFailure.Message = "apply failed differently"
	recovered := Event{Kind: KindRecovered, Tenant: "team-a", Revision: testRev, Message: "tenant is Ready again"}
	otherTenant := drift
	otherTenant.Tenant = "team-b"

	steps := []struct {
		name    string
		after   time.Duration // clock advance before the event
		event   Event
		want    int // messages this step
		wantKnd Kind
	}{
		{name: "first drift alerts", event: drift, want: 1, wantKnd: KindDrift},
		{name: "same drift within the interval is dropped", after: 5 * time.Minute, event: drift, want: 0},
		{name: "same drift in another tenant alerts", event: otherTenant, want: 1, wantKnd: KindDrift},
		{name: "drift of other objects alerts", event: driftOther, want: 1, wantKnd: KindDrift},
		{name: "failure alerts", event: failure, want: 1, wantKnd: KindFailure},
		{name: "same failure is dropped", after: 10 * time.Minute, event: failure, want: 0},
		{name: "recovery alerts once", event: recovered, want: 1, wantKnd: KindRecovered},
		{name: "second recovery is dropped", event: recovered, want: 0},
		{name: "the same failure after recovery alerts again", event: failure, want: 1, wantKnd: KindFailure},
		{name: "and so does the same drift", event: drift, want: 1, wantKnd: KindDrift},
		{name: "a new failure alerts", event: newFailure, want: 1, wantKnd: KindFailure},
		{name: "recovery after the new failure alerts", event: recovered, want: 1, wantKnd: KindRecovered},
		{name: "same drift after the interval alerts again", after: DefaultDedupInterval, event: otherTenant, want: 1, wantKnd: KindDrift},
	}
	rec := &recorder{}
	r, clk := newTestRouter(t, rec)
	for _, s := range steps {
		before := rec.messages()
		clk.Advance(s.after)
		if err := r.Notify(context.Background(), s.event); err != nil {
			t.Fatalf("%s: Notify: %v", s.name, err)
		}
		clk.Advance(window)
		r.waitIdle(t)
		got := rec.messages() - before
		if got != s.want {
			t.Fatalf("%s: %d messages, want %d", s.name, got, s.want)
		}
		if s.want == 1 {
			events, _ := rec.snapshot()
			if k := events[len(events)-1].Kind; k != s.wantKnd {
				t.Fatalf("%s: sent %s, want %s", s.name, k, s.wantKnd)
			}
		}
	}
}

// TestRouterBatching sends bursts within one window and checks individual vs summary delivery.
func TestRouterBatching(t *testing.T) {
	tests := []struct {
		name          string
		events        int
		plain         bool // provider cannot summarize
		wantEvents    int
		wantSummaries []int // event count of each summary
	}{
		{name: "one event goes alone", events: 1, wantEvents: 1},
		{name: "three events go one by one", events: 3, wantEvents: 3},
		{name: "four events make one summary", events: 4, wantSummaries: []int{4}},
		{name: "ten tenants make one summary", events: 10, wantSummaries: []int{10}},
		{name: "a provider without summaries gets all ten", events: 10, plain: true, wantEvents: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			var n Notifier = rec
			if tt.plain {
				n = plainNotifier{rec}
			}
			r, clk := newTestRouter(t, n)
			for _, e := range burst(tt.events) {
				if err := r.Notify(context.Background(), e); err != nil {
					t.Fatal(err)
				}
				clk.Advance(window / 20)
			}
			if rec.messages() != 0 {
				t.Fatalf("delivered %d messages before the window closed", rec.messages())
			}
			clk.Advance(window)
			r.waitIdle(t)
			events, sums := rec.snapshot()
			if len(events) != tt.wantEvents {
				t.Errorf("individual messages = %d, want %d", len(events), tt.wantEvents)
			}
			if len(sums) != len(tt.wantSummaries) {
				t.Fatalf("summaries = %d, want %d", len(sums), len(tt.wantSummaries))
			}
			for i, s := range sums {
				if s.Count != tt.wantSummaries[i] || len(s.Events) != s.Count || len(s.Tenants) != s.Count {
					t.Errorf("summary %d: count %d, %d events, %d tenants; want %d", i, s.Count, len(s.Events), len(s.Tenants), tt.wantSummaries[i])
				}
				if !s.Time.Equal(clk.Now()) || s.Kind != KindSummary {
					t.Errorf("summary %d: kind %s time %v", i, s.Kind, s.Time)
				}
			}
		})
	}
}

// plainNotifier hides NotifySummary.
type plainNotifier struct{ n Notifier }

func (p plainNotifier) Notify(ctx context.Context, e Event) error { return p.n.Notify(ctx, e) }

func TestRouterWindowsAreSeparate(t *testing.T) {
	rec := &recorder{}
	r, clk := newTestRouter(t, rec)
	events := burst(10)
	for _, e := range events[:5] {
		_ = r.Notify(context.Background(), e)
	}
	clk.Advance(window)
	r.waitIdle(t)
	for _, e := range events[5:] {
		_ = r.Notify(context.Background(), e)
	}
	clk.Advance(window)
	r.waitIdle(t)
	_, sums := rec.snapshot()
	if len(sums) != 2 || sums[0].Count != 5 || sums[1].Count != 5 {
		t.Fatalf("summaries = %+v, want two of 5", sums)
	}
}

func TestRouterNotifyNeverBlocks(t *testing.T) {
	rec := &recorder{block: make(chan struct{})}
	r, clk := newTestRouter(t, rec)
	_ = r.Notify(context.Background(), burst(1)[0])
	clk.Advance(window) // the worker is now stuck delivering
	done := make(chan struct{})
	go func() {
		for _, e := range burst(50) {
			_ = r.Notify(context.Background(), e)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked on a stuck provider")
	}
	close(rec.block)
	clk.Advance(window)
	r.waitIdle(t)
}

// TestRouterFailedDeliveryIsLoggedAndRetriedLater checks that a failed delivery is
// logged, does not reach the caller, and is not remembered as sent.
func TestRouterFailedDeliveryIsLoggedAndRetriedLater(t *testing.T) {
	var mu sync.Mutex
	var logs []string
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, args)
	}, funcr.Options{})
	rec := &recorder{failNext: 1}
	r, clk := newTestRouter(t, rec, WithLogger(log))
	e := driftEvent()
	if err := r.Notify(context.Background(), e); err != nil {
		t.Fatalf("Notify returned the provider's error: %v", err)
	}
	clk.Advance(window)
	r.waitIdle(t)
	if rec.messages() != 0 {
		t.Fatalf("messages = %d, want 0 (delivery failed)", rec.messages())
	}
	mu.Lock()
	joined := strings.Join(logs, "\n")
	mu.Unlock()
	if !strings.Contains(joined, "notification failed") || !strings.Contains(joined, `"provider"="rec"`) {
		t.Fatalf("failure not logged: %s", joined)
	}
	assertNoSecrets(t, "log", joined)
	if err := r.Notify(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	clk.Advance(window)
	r.waitIdle(t)
	if rec.messages() != 1 {
		t.Fatalf("the same event after a failed delivery: messages = %d, want 1", rec.messages())
	}
	events, _ := rec.snapshot()
	assertNoSecrets(t, "delivered event", fmt.Sprintf("%+v", events))
}

func TestRouterCloseFlushesAndRejects(t *testing.T) {
	rec := &recorder{}
	r, _ := newTestRouter(t, rec)
	for _, e := range burst(2) {
		_ = r.Notify(context.Background(), e)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if rec.messages() != 2 {
		t.Fatalf("Close delivered %d messages, want 2", rec.messages())
	}
	if err := r.Notify(context.Background(), burst(3)[2]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Notify after Close = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestRouterCloseTimesOut(t *testing.T) {
	rec := &recorder{block: make(chan struct{})} // never released: only ctx ends it
	r, _ := newTestRouter(t, rec, WithFlushTimeout(50*time.Millisecond))
	_ = r.Notify(context.Background(), burst(1)[0])
	if err := r.Close(); !errors.Is(err, ErrFlushTimeout) {
		t.Fatalf("Close = %v, want ErrFlushTimeout", err)
	}
}

func TestRouterQueueFull(t *testing.T) {
	rec := &recorder{}
	r, _ := newTestRouter(t, rec, WithQueueSize(2), WithLogger(logr.Discard()))
	var errs []error
	for _, e := range burst(3) {
		errs = append(errs, r.Notify(context.Background(), e))
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrQueueFull) {
		t.Fatalf("errors = %v, want nil, nil, ErrQueueFull", errs)
	}
}

func TestRouterSetsTimeAndSanitizes(t *testing.T) {
	rec := &recorder{}
	r, clk := newTestRouter(t, rec)
	e := driftEvent()
	e.Time = time.Time{}
	_ = r.Notify(context.Background(), e)
	clk.Advance(window)
	r.waitIdle(t)
	events, _ := rec.snapshot()
	if len(events) != 1 {
		t.Fatalf("events = %d", len(events))
	}
	if !events[0].Time.Equal(fixedTime) {
		t.Errorf("time = %v, want the clock's %v", events[0].Time, fixedTime)
	}
	assertNoSecrets(t, "routed event", fmt.Sprintf("%+v", events[0]))
}
