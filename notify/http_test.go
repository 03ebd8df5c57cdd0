package notify

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestTransportErrorsAreRetried drops the first connections without an answer.
func TestTransportErrorsAreRetried(t *testing.T) {
	tests := []struct {
		name      string
		drop      int
		wantErr   bool
		wantCalls int
	}{
		{name: "one dropped connection", drop: 1, wantCalls: 2},
		{name: "always dropped", drop: 100, wantErr: true, wantCalls: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCapture(t, func(n int, w http.ResponseWriter, _ *http.Request, _ []byte) {
				if n < tt.drop {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						_ = conn.Close()
					}
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			d := NewDiscord(c.srv.URL + "/api/webhooks/1/DISCORDSECRET")
			d.Backoff = time.Millisecond
			d.Client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			err := d.Notify(context.Background(), failureEvent())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if c.count() != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", c.count(), tt.wantCalls)
			}
		})
	}
}

func TestWithRetriesBackoffAndCancel(t *testing.T) {
	errTransient := errors.New("transient")
	var waits []time.Duration
	last := time.Now()
	err := withRetries(context.Background(), 3, 5*time.Millisecond, func(context.Context) (bool, time.Duration, error) {
		now := time.Now()
		waits = append(waits, now.Sub(last))
		last = now
		return true, 0, errTransient
	})
	if !errors.Is(err, errTransient) || len(waits) != 4 {
		t.Fatalf("err %v after %d attempts, want 4", err, len(waits))
	}
	for i, want := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond} {
		if waits[i+1] < want {
			t.Errorf("wait before attempt %d = %v, want ≥ %v", i+2, waits[i+1], want)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err = withRetries(ctx, 10, time.Hour, func(context.Context) (bool, time.Duration, error) {
		calls++
		cancel()
		return true, 0, errTransient
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errTransient) || calls != 1 {
		t.Fatalf("cancelled: err %v, calls %d", err, calls)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0}, {"0", 0}, {"2", 2 * time.Second}, {"1.5", 1500 * time.Millisecond}, {"soon", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		h.Set("Retry-After", tt.value)
		if got := retryAfter(h); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}
