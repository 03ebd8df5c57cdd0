package notify

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSlackBotOKFalseIsAnErrorAndRetried(t *testing.T) {
	tests := []struct {
		name      string
		answers   []string // answer n; the last one repeats
		status    int      // status of all but the last answer; 200 when 0
		wantErr   string
		wantCalls int
	}{
		{name: "ok", answers: []string{`{"ok":true}`}, wantCalls: 1},
		{name: "transient ok:false is retried", answers: []string{`{"ok":false,"error":"internal_error"}`, `{"ok":false,"error":"fatal_error"}`, `{"ok":true}`}, wantCalls: 3},
		{name: "ok:false forever gives up", answers: []string{`{"ok":false,"error":"ratelimited"}`}, wantErr: "ratelimited", wantCalls: 4},
		{name: "permanent ok:false is not retried", answers: []string{`{"ok":false,"error":"channel_not_found"}`}, wantErr: "channel_not_found", wantCalls: 1},
		{name: "invalid token is not retried", answers: []string{`{"ok":false,"error":"invalid_auth"}`}, wantErr: "invalid_auth", wantCalls: 1},
		{name: "429 is retried", status: http.StatusTooManyRequests, answers: []string{`{"ok":false,"error":"ratelimited"}`, `{"ok":true}`}, wantCalls: 2},
		{name: "not JSON is retried", answers: []string{`<html>`, `{"ok":true}`}, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCapture(t, func(n int, w http.ResponseWriter, r *http.Request, body []byte) {
				i := min(n, len(tt.answers)-1)
				if tt.status != 0 && i < len(tt.answers)-1 {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(tt.status)
				}
				_, _ = w.Write([]byte(tt.answers[i]))
			})
			s := NewSlackBot(testBotToken, "C0123")
			s.APIURL, s.Backoff = c.srv.URL, time.Millisecond
			err := s.Notify(context.Background(), failureEvent())
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if tt.status == 0 && !errors.Is(err, ErrSlackNotOK) {
					t.Errorf("err %v does not wrap ErrSlackNotOK", err)
				}
				assertNoSecrets(t, "error", err.Error(), testBotToken)
			}
			if c.count() != tt.wantCalls {
				t.Fatalf("calls = %d, want %d", c.count(), tt.wantCalls)
			}
			for i := 0; i < c.count(); i++ {
				if c.paths[i] != "/chat.postMessage" || c.headers[i].Get("Authorization") != "Bearer "+testBotToken {
					t.Errorf("request %d: %s %q", i, c.paths[i], c.headers[i].Get("Authorization"))
				}
				var m struct {
					Channel string            `json:"channel"`
					Text    string            `json:"text"`
					Blocks  []json.RawMessage `json:"blocks"`
				}
				if err := json.Unmarshal(c.body(i), &m); err != nil || m.Channel != "C0123" || m.Text == "" || len(m.Blocks) == 0 {
					t.Errorf("request %d payload %s (%v)", i, c.body(i), err)
				}
			}
		})
	}
}

func TestSlackBotNeedsTokenAndChannel(t *testing.T) {
	if err := NewSlackBot("", "C1").Notify(context.Background(), failureEvent()); err == nil {
		t.Fatal("no error without a token")
	}
}
