package notify

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// Router defaults.
const (
	DefaultDedupInterval    = time.Hour
	DefaultBatchWindow      = 10 * time.Second
	DefaultSummaryThreshold = 3
	DefaultQueueSize        = 1000
	defaultDeliveryTimeout  = 2 * time.Minute
	defaultFlushTimeout     = 30 * time.Second
)

// Router errors.
var (
	ErrClosed       = errors.New("notifier is closed")
	ErrQueueFull    = errors.New("notification queue is full")
	ErrFlushTimeout = errors.New("timed out flushing pending notifications")
)

// Route sends events of some kinds and tenants to some providers. Empty Kinds or
// Tenants match every event; Tenants are path.Match globs ("team-*"), and an event
// without a tenant (heldBack) only matches routes without Tenants.
type Route struct {
	Kinds     []Kind   `yaml:"kinds"`
	Tenants   []string `yaml:"tenants"`
	Providers []string `yaml:"providers"`
}

func (rt Route) matches(e Event) bool {
	if len(rt.Kinds) > 0 {
		found := false
		for _, k := range rt.Kinds {
			found = found || k == e.Kind
		}
		if !found {
			return false
		}
	}
	if len(rt.Tenants) == 0 {
		return true
	}
	for _, glob := range rt.Tenants {
		if ok, _ := path.Match(glob, e.Tenant); ok && e.Tenant != "" {
			return true
		}
	}
	return false
}

// Router is a Notifier that routes each event to providers, drops duplicates, batches
// bursts and delivers in the background.
//
// Notify never waits on the network: it enqueues the event for each matching provider
// and returns. NewRouter (and Config.Build) start one delivery goroutine per provider,
// so a slow or failing provider delays no other; Close flushes what is pending and
// stops them. (Goroutines are started at construction rather than by a Run(ctx) so a
// caller cannot forget to start delivery; Close is the one thing to defer.)
//
// Per provider:
//   - the same event (kind, tenant, revision and a digest of message and objects) is sent
//     at most once per dedup interval; a recovery resets the tenant's failure, drift and
//     stalled events so a new problem alerts again, and a problem resets the recovery so
//     it is sent once per incident. A delivery that fails for good is forgotten, so the
//     same event is tried again when it next happens;
//   - the first event queued opens a batch window; when it closes, more than the summary
//     threshold (3) pending events go out as one Summary (if the provider is a
//     BatchNotifier), fewer one by one;
//   - providers retry transient errors with exponential backoff themselves; failures
//     are logged (provider errors carry no credentials) and never reach the caller.
type Router struct {
	routes    []Route
	lanes     map[string]*lane
	clock     Clock
	log       logr.Logger
	dedupIvl  time.Duration
	window    time.Duration
	threshold int
	queueSize int
	timeout   time.Duration
	flushWait time.Duration
	observe   DeliveryObserver

	ctx       context.Context
	cancel    context.CancelFunc
	stop      chan struct{}
	workers   sync.WaitGroup
	inflight  sync.WaitGroup // queued or being delivered; lets tests wait for delivery
	closeOnce sync.Once
	closeErr  error
}

// Option configures a Router.
type Option func(*Router)

// WithClock sets the clock used for dedup and batch windows (default RealClock).
func WithClock(c Clock) Option { return func(r *Router) { r.clock = c } }

// WithLogger sets where delivery failures are logged (default: discarded).
func WithLogger(l logr.Logger) Option { return func(r *Router) { r.log = l } }

// WithDedupInterval sets how long the same event is suppressed (default 1h).
func WithDedupInterval(d time.Duration) Option { return func(r *Router) { r.dedupIvl = d } }

// WithBatchWindow sets how long events are gathered before delivery (default 10s).
func WithBatchWindow(d time.Duration) Option { return func(r *Router) { r.window = d } }

// WithSummaryThreshold sets how many pending events a provider still gets one by one;
// more go out as one summary (default 3).
func WithSummaryThreshold(n int) Option { return func(r *Router) { r.threshold = n } }

// WithQueueSize bounds the events pending per provider; more are dropped with
// ErrQueueFull (default 1000).
func WithQueueSize(n int) Option { return func(r *Router) { r.queueSize = n } }

// WithFlushTimeout bounds how long Close waits for pending deliveries (default 30s).
func WithFlushTimeout(d time.Duration) Option { return func(r *Router) { r.flushWait = d } }

// NewRouter returns a started Router over named providers. With no routes, every event
// goes to every provider. Callers must Close it.
func NewRouter(providers map[string]Notifier, routes []Route, opts ...Option) (*Router, error) {
	if len(providers) == 0 {
		return nil, errors.New("notify: at least one provider is required")
	}
	for name, n := range providers {
		if name == "" || n == nil {
			return nil, fmt.Errorf("notify: provider %q: a name and a notifier are required", name)
		}
	}
	if len(routes) == 0 {
		all := make([]string, 0, len(providers))
		for name := range providers {
			all = append(all, name)
		}
		sort.Strings(all)
		routes = []Route{{Providers: all}}
	}
	if err := validateRoutes(routes, func(name string) bool { return providers[name] != nil }); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	r := &Router{routes: routes, lanes: map[string]*lane{}, clock: RealClock{}, log: logr.Discard(),
		dedupIvl: DefaultDedupInterval, window: DefaultBatchWindow, threshold: DefaultSummaryThreshold,
		queueSize: DefaultQueueSize, timeout: defaultDeliveryTimeout, flushWait: defaultFlushTimeout,
		stop: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	if r.dedupIvl <= 0 {
		r.dedupIvl = DefaultDedupInterval
	}
	if r.window <= 0 {
		r.window = DefaultBatchWindow
	}
	if r.queueSize <= 0 {
		r.queueSize = DefaultQueueSize
	}
	if r.flushWait <= 0 {
		r.flushWait = defaultFlushTimeout
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for name, n := range providers {
		l := &lane{r: r, name: name, n: n, dedup: newDedup(r.dedupIvl), kick: make(chan struct{}, 1)}
		r.lanes[name] = l
		r.workers.Add(1)
		go l.run()
	}
	return r, nil
}

func validateRoutes(routes []Route, exists func(string) bool) error {
	for i, rt := range routes {
		if len(rt.Providers) == 0 {
			return fmt.Errorf("routes[%d].providers: at least one provider is required", i)
		}
		for _, p := range rt.Providers {
			if !exists(p) {
				return fmt.Errorf("routes[%d].providers: unknown provider %q", i, p)
			}
		}
		for _, k := range rt.Kinds {
			if !knownKind(k) {
				return fmt.Errorf("routes[%d].kinds: unknown kind %q (want one of %v)", i, k, eventKinds)
			}
		}
		for _, g := range rt.Tenants {
			if _, err := path.Match(g, ""); err != nil {
				return fmt.Errorf("routes[%d].tenants: bad glob %q: %w", i, g, err)
			}
		}
	}
	return nil
}

// Notify implements Notifier: it queues e for every provider a route selects and returns
// at once. Errors only report events that could not be queued (closed, queue full).
func (r *Router) Notify(_ context.Context, e Event) error {
	now := r.clock.Now()
	if e.Time.IsZero() {
		e.Time = now.UTC()
	}
	e = Sanitize(e)
	var errs []error
	for _, name := range r.targets(e) {
		if err := r.lanes[name].offer(e, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// targets are the providers some route selects for e, sorted.
func (r *Router) targets(e Event) []string {
	set := map[string]bool{}
	for _, rt := range r.routes {
		if rt.matches(e) {
			for _, p := range rt.Providers {
				set[p] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Close stops accepting events, delivers what is pending (batching as usual) and stops
// the delivery goroutines. After the flush timeout, deliveries still running are
// cancelled and ErrFlushTimeout is returned.
func (r *Router) Close() error {
	r.closeOnce.Do(func() {
		for _, l := range r.lanes {
			l.mu.Lock()
			l.closed = true
			l.mu.Unlock()
		}
		close(r.stop)
		done := make(chan struct{})
		go func() {
			r.workers.Wait()
			close(done)
		}()
		t := time.NewTimer(r.flushWait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			r.cancel()
			<-done
			r.closeErr = fmt.Errorf("notify: %w", ErrFlushTimeout)
		}
		r.cancel()
	})
	return r.closeErr
}

// lane is one provider's queue and delivery goroutine.
type lane struct {
	r     *Router
	name  string
	n     Notifier
	kick  chan struct{}
	mu    sync.Mutex
	dedup *dedup
	// pending events of the open batch window; stopTimer ends that window's timer.
	pending   []queued
	stopTimer func() bool
	closed    bool
}

type queued struct {
	e  Event
	at time.Time // when dedup accepted it
}

func (l *lane) offer(e Event, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("notify: provider %q: %w", l.name, ErrClosed)
	}
	if len(l.pending) >= l.r.queueSize {
		return fmt.Errorf("notify: provider %q: %w (%d pending); dropped %s event for tenant %q",
			l.name, ErrQueueFull, len(l.pending), e.Kind, e.Tenant)
	}
	if !l.dedup.accept(e, now) {
		l.r.log.V(1).Info("duplicate notification suppressed", "provider", l.name, "kind", e.Kind, "tenant", e.Tenant)
		return nil
	}
	l.pending = append(l.pending, queued{e: e, at: now})
	l.r.inflight.Add(1)
	if len(l.pending) == 1 {
		l.stopTimer = l.r.clock.AfterFunc(l.r.window, l.signal)
	}
	return nil
}

// signal wakes the delivery goroutine; it never blocks.
func (l *lane) signal() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *lane) run() {
	defer l.r.workers.Done()
	for {
		select {
		case <-l.kick:
			l.flush()
		case <-l.r.stop:
			l.flush()
			return
		}
	}
}

// flush delivers the pending batch: one summary when it is larger than the threshold
// and the provider can summarize, else event by event.
func (l *lane) flush() {
	l.mu.Lock()
	batch := l.pending
	l.pending = nil
	if l.stopTimer != nil {
		l.stopTimer()
		l.stopTimer = nil
	}
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	defer l.r.inflight.Add(-len(batch))
	if bn, ok := l.n.(BatchNotifier); ok && len(batch) > l.r.threshold {
		events := make([]Event, len(batch))
		for i, q := range batch {
			events[i] = q.e
		}
		ctx, cancel := context.WithTimeout(l.r.ctx, l.r.timeout)
		defer cancel()
		err := bn.NotifySummary(ctx, NewSummary(events, l.r.clock.Now()))
		l.r.observed(l.name, err)
		if err != nil {
			l.r.log.Error(err, "notification summary failed", "provider", l.name, "events", len(batch))
			l.forget(batch)
		}
		return
	}
	for _, q := range batch {
		l.deliver(q)
	}
}

func (l *lane) deliver(q queued) {
	ctx, cancel := context.WithTimeout(l.r.ctx, l.r.timeout)
	defer cancel()
	err := l.n.Notify(ctx, q.e)
	l.r.observed(l.name, err)
	if err != nil {
		l.r.log.Error(err, "notification failed", "provider", l.name, "kind", q.e.Kind, "tenant", q.e.Tenant)
		l.forget([]queued{q})
	}
}

func (l *lane) forget(qs []queued) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, q := range qs {
		l.dedup.forget(q.e, q.at)
	}
}
