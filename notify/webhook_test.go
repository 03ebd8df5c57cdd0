package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWebhookPostsJSONAndRetries(t *testing.T) {
	tests := []struct {
		name      string
		failFirst int
		status    int
		wantErr   bool
		wantCalls int32
	}{
		{name: "ok", wantCalls: 1},
		{name: "retries 500 then ok", failFirst: 2, status: 500, wantCalls: 3},
		{name: "gives up after retries", failFirst: 10, status: 503, wantErr: true, wantCalls: 4},
		{name: "no retry on 400", failFirst: 10, status: 400, wantErr: true, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			var got Event
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				if int(n) <= tt.failFirst {
					w.WriteHeader(tt.status)
					return
				}
				if r.Header.Get("Content-Type") != "application/json" {
					t.Errorf("content type %q", r.Header.Get("Content-Type"))
				}
				_ = json.NewDecoder(r.Body).Decode(&got)
			}))
			defer srv.Close()
			w := NewWebhook(srv.URL + "/hooks/secret-token")
			w.Backoff = time.Millisecond
			err := w.Notify(context.Background(), Event{Kind: KindDrift, Tenant: "team-a", Message: "quota edited"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret-token") {
				t.Fatalf("error leaks the webhook path: %v", err)
			}
			if calls.Load() != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", calls.Load(), tt.wantCalls)
			}
			if !tt.wantErr && (got.Tenant != "team-a" || got.Kind != KindDrift) {
				t.Fatalf("payload = %+v", got)
			}
		})
	}
}
