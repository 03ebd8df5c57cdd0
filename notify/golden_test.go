package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

const (
	testBotToken   = "xoxb-test-token-123456"
	testHMACSecret = "s3cr3t-hmac-key"
)

// providerCase builds one provider against a test server URL and checks what only the
// headers and the decoded payload can show.
type providerCase struct {
	name    string
	build   func(url string) BatchNotifier
	status  int    // answer status; 200 when 0
	answer  string // answer body
	path    string // request path the provider must use
	headers func(t *testing.T, h http.Header, body []byte)
	shape   func(t *testing.T, m map[string]any)
}

func providerCases() []providerCase {
	jsonCT := func(want string) func(*testing.T, http.Header, []byte) {
		return func(t *testing.T, h http.Header, _ []byte) {
			if got := h.Get("Content-Type"); got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
		}
	}
	return []providerCase{
		{
			name: "slack", path: "/services/T000/B000/XXXXSECRET",
			build: func(u string) BatchNotifier {
				s := NewSlack(u + "/services/T000/B000/XXXXSECRET")
				s.Backoff = time.Millisecond
				return s
			},
			headers: jsonCT("application/json"),
			shape: func(t *testing.T, m map[string]any) {
				mustHave(t, m, "text", "blocks")
				mustNotHave(t, m, "channel")
			},
		},
		{
			name: "slackbot", path: "/api/chat.postMessage", answer: `{"ok":true,"channel":"C1","ts":"1.2"}`,
			build: func(u string) BatchNotifier {
				s := NewSlackBot(testBotToken, "#platform")
				s.APIURL, s.Backoff = u+"/api", time.Millisecond
				return s
			},
			headers: func(t *testing.T, h http.Header, b []byte) {
				jsonCT("application/json; charset=utf-8")(t, h, b)
				if got := h.Get("Authorization"); got != "Bearer "+testBotToken {
					t.Errorf("Authorization = %q", got)
				}
			},
			shape: func(t *testing.T, m map[string]any) {
				mustHave(t, m, "channel", "text", "blocks")
				if m["channel"] != "#platform" {
					t.Errorf("channel = %v", m["channel"])
				}
			},
		},
		{
			name: "teams", path: "/workflows/abc/triggers/manual/paths/invoke?sig=SIGSECRET", status: http.StatusAccepted,
			build: func(u string) BatchNotifier {
				s := NewTeams(u + "/workflows/abc/triggers/manual/paths/invoke?sig=SIGSECRET")
				s.Backoff = time.Millisecond
				return s
			},
			headers: jsonCT("application/json"),
			shape: func(t *testing.T, m map[string]any) {
				if m["type"] != "message" {
					t.Errorf("type = %v", m["type"])
				}
				atts, _ := m["attachments"].([]any)
				if len(atts) != 1 {
					t.Fatalf("attachments = %v", m["attachments"])
				}
				att := atts[0].(map[string]any)
				if att["contentType"] != "application/vnd.microsoft.card.adaptive" {
					t.Errorf("contentType = %v", att["contentType"])
				}
				card := att["content"].(map[string]any)
				if card["type"] != "AdaptiveCard" || card["version"] != "1.4" {
					t.Errorf("card type/version = %v/%v", card["type"], card["version"])
				}
			},
		},
		{
			name: "discord", path: "/api/webhooks/123/DISCORDSECRET", status: http.StatusNoContent,
			build: func(u string) BatchNotifier {
				s := NewDiscord(u + "/api/webhooks/123/DISCORDSECRET")
				s.Backoff = time.Millisecond
				return s
			},
			headers: jsonCT("application/json"),
			shape: func(t *testing.T, m map[string]any) {
				mustHave(t, m, "content", "embeds", "allowed_mentions")
				embeds, _ := m["embeds"].([]any)
				if len(embeds) != 1 {
					t.Fatalf("embeds = %v", m["embeds"])
				}
				mustHave(t, embeds[0].(map[string]any), "title", "description", "color", "fields")
			},
		},
		{
			name: "googlechat", path: "/v1/spaces/AAA/messages?key=GCHATKEY&token=GCHATSECRET",
			answer: `{"name":"spaces/AAA/messages/1"}`,
			build: func(u string) BatchNotifier {
				s := NewGoogleChat(u + "/v1/spaces/AAA/messages?key=GCHATKEY&token=GCHATSECRET")
				s.Backoff = time.Millisecond
				return s
			},
			headers: jsonCT("application/json; charset=UTF-8"),
			shape: func(t *testing.T, m map[string]any) {
				mustHave(t, m, "text", "cardsV2")
				cards := m["cardsV2"].([]any)
				mustHave(t, cards[0].(map[string]any), "cardId", "card")
			},
		},
		{
			name: "webhook", path: "/hooks/WEBHOOKSECRET",
			build: func(u string) BatchNotifier {
				s := NewWebhook(u + "/hooks/WEBHOOKSECRET")
				s.Backoff = time.Millisecond
				return s
			},
			headers: func(t *testing.T, h http.Header, b []byte) {
				jsonCT("application/json")(t, h, b)
				if h.Get(SignatureHeader) != "" {
					t.Errorf("unsigned webhook sent %s", SignatureHeader)
				}
			},
			shape: func(t *testing.T, m map[string]any) { mustHave(t, m, "kind", "message", "time") },
		},
		{
			name: "hmac", path: "/hooks/HMACPATH",
			build: func(u string) BatchNotifier {
				s := NewHMACWebhook(u+"/hooks/HMACPATH", []byte(testHMACSecret))
				s.Backoff = time.Millisecond
				return s
			},
			headers: func(t *testing.T, h http.Header, b []byte) {
				jsonCT("application/json")(t, h, b)
				if !VerifySignature([]byte(testHMACSecret), b, h.Get(SignatureHeader)) {
					t.Errorf("%s %q does not verify", SignatureHeader, h.Get(SignatureHeader))
				}
			},
			shape: func(t *testing.T, m map[string]any) { mustHave(t, m, "kind", "message", "time") },
		},
	}
}

func mustHave(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("payload has no %q: %v", k, m)
		}
	}
}

func mustNotHave(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; ok {
			t.Errorf("payload has %q", k)
		}
	}
}

// TestProviderPayloadsGolden sends fixed events to each provider's stand-in endpoint and
// compares the request bodies byte for byte with testdata/<provider>_<case>.golden.json.
func TestProviderPayloadsGolden(t *testing.T) {
	messages := []struct {
		name string
		send func(ctx context.Context, n BatchNotifier) error
	}{
		{"drift", func(ctx context.Context, n BatchNotifier) error { return n.Notify(ctx, driftEvent()) }},
		{"failure", func(ctx context.Context, n BatchNotifier) error { return n.Notify(ctx, failureEvent()) }},
		{"summary", func(ctx context.Context, n BatchNotifier) error {
			return n.NotifySummary(ctx, NewSummary(append(burst(5), driftEvent()), fixedTime))
		}},
	}
	for _, pc := range providerCases() {
		for _, m := range messages {
			t.Run(pc.name+"/"+m.name, func(t *testing.T) {
				c := newCapture(t, func(_ int, w http.ResponseWriter, _ *http.Request, _ []byte) {
					if pc.status != 0 {
						w.WriteHeader(pc.status)
					}
					_, _ = w.Write([]byte(pc.answer))
				})
				if err := m.send(context.Background(), pc.build(c.srv.URL)); err != nil {
					t.Fatalf("send: %v", err)
				}
				if c.count() != 1 {
					t.Fatalf("requests = %d, want 1", c.count())
				}
				body := c.body(0)
				if c.paths[0] != pc.path {
					t.Errorf("path = %q, want %q", c.paths[0], pc.path)
				}
				pc.headers(t, c.headers[0], body)
				var decoded map[string]any
				if err := json.Unmarshal(body, &decoded); err != nil {
					t.Fatalf("payload is not JSON: %v\n%s", err, body)
				}
				pc.shape(t, decoded)
				assertNoSecrets(t, "payload", string(body))
				golden(t, pc.name+"_"+m.name, body)
			})
		}
	}
}
