package notify

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const slackHookSecret = "T0000/B0000/SLACKHOOKSECRET"

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	urlFile := writeFile(t, dir, "slack-url", "https://hooks.slack.com/services/"+slackHookSecret+"\n")
	tokenFile := writeFile(t, dir, "slack-token", testBotToken+"\n")
	secretFile := writeFile(t, dir, "hmac", testHMACSecret)
	good := `
providers:
  - name: platform-slack
    type: slack
    urlFile: ` + urlFile + `
  - name: platform-bot
    type: slack-bot
    channel: "#platform"
    tokenFile: ` + tokenFile + `
  - name: teams
    type: teams
    url: https://example.webhook.office.com/webhookb2/x
  - name: discord
    type: discord
    url: https://discord.com/api/webhooks/1/y
  - name: chat
    type: googlechat
    url: https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t
  - name: plain
    type: webhook
    url: https://hooks.example.com/tenantry
  - name: audit
    type: hmac-webhook
    url: https://audit.example.com/hook
    secretFile: ` + secretFile + `
routes:
  - kinds: [drift, failure, recovered, pruned, heldBack, stalled]
    tenants: ["team-*"]
    providers: [platform-slack, platform-bot]
  - providers: [teams, discord, chat, plain, audit]
dedupInterval: 30m
batchWindow: 5s
`
	tests := []struct {
		name     string
		yaml     string
		wantErr  string // substring; empty for success
		buildErr string // substring of the Build error
	}{
		{name: "good", yaml: good},
		{name: "unknown top-level field", yaml: good + "dedupIntervall: 1h\n", wantErr: "field dedupIntervall not found"},
		{name: "unknown provider field", yaml: "providers:\n  - name: a\n    type: slack\n    uri: https://hooks.slack.com/services/" + slackHookSecret + "\n",
			wantErr: "field uri not found"},
		{name: "unknown route field", yaml: "providers:\n  - {name: a, type: webhook, url: https://x.example.com/h}\nroutes:\n  - {tenant: [a], providers: [a]}\n",
			wantErr: "field tenant not found"},
		{name: "unknown provider type", yaml: "providers:\n  - {name: pd, type: pagerduty, url: https://events.pagerduty.com/x}\n",
			wantErr: `providers[0] (pd).type: unknown provider type "pagerduty"`},
		{name: "route names a missing provider", yaml: "providers:\n  - {name: a, type: webhook, url: https://x.example.com/h}\nroutes:\n  - {providers: [a, nope]}\n",
			wantErr: `routes[0].providers: unknown provider "nope"`},
		{name: "route without providers", yaml: "providers:\n  - {name: a, type: webhook, url: https://x.example.com/h}\nroutes:\n  - {kinds: [drift]}\n",
			wantErr: "routes[0].providers: at least one provider is required"},
		{name: "unknown kind", yaml: "providers:\n  - {name: a, type: webhook, url: https://x.example.com/h}\nroutes:\n  - {kinds: [drfit], providers: [a]}\n",
			wantErr: `routes[0].kinds: unknown kind "drfit"`},
		{name: "bad glob", yaml: "providers:\n  - {name: a, type: webhook, url: https://x.example.com/h}\nroutes:\n  - {tenants: ['team-['], providers: [a]}\n",
			wantErr: "routes[0].tenants: bad glob"},
		{name: "no providers", yaml: "routes: []\n", wantErr: "providers: at least one provider is required"},
		{name: "empty file", yaml: "", wantErr: "config is empty"},
		{name: "duplicate name", yaml: "providers:\n  - {name: a, type: webhook, url: https://x.example.com/h}\n  - {name: a, type: slack, url: https://hooks.slack.com/services/x}\n",
			wantErr: `providers[1].name: duplicate name "a"`},
		{name: "missing name", yaml: "providers:\n  - {type: webhook, url: https://x.example.com/h}\n", wantErr: "providers[0].name: required"},
		{name: "missing url", yaml: "providers:\n  - {name: a, type: discord}\n", wantErr: "providers[0] (a).url: url or urlFile is required"},
		{name: "url and urlFile", yaml: "providers:\n  - {name: a, type: slack, url: 'https://hooks.slack.com/services/" + slackHookSecret + "', urlFile: /x}\n",
			wantErr: "providers[0] (a).url: set url or urlFile, not both"},
		{name: "url not http", yaml: "providers:\n  - {name: a, type: slack, url: 'ftp://hooks.slack.com/services/" + slackHookSecret + "'}\n",
			wantErr: "providers[0] (a).url: must be an absolute http(s) URL"},
		{name: "slack-bot without channel", yaml: "providers:\n  - {name: b, type: slack-bot, token: " + testBotToken + "}\n",
			wantErr: "providers[0] (b).channel: required for type slack-bot"},
		{name: "slack-bot without token", yaml: "providers:\n  - {name: b, type: slack-bot, channel: '#x'}\n",
			wantErr: "providers[0] (b).token: token or tokenFile is required"},
		{name: "token on a slack webhook", yaml: "providers:\n  - {name: a, type: slack, url: https://hooks.slack.com/services/x, token: " + testBotToken + "}\n",
			wantErr: "providers[0] (a).token: not used by this provider type"},
		{name: "hmac without secret", yaml: "providers:\n  - {name: h, type: hmac-webhook, url: https://x.example.com/h}\n",
			wantErr: "providers[0] (h).secret: secret or secretFile is required"},
		{name: "bad duration", yaml: "providers:\n  - {name: a, type: webhook, url: https://x.example.com/h}\ndedupInterval: soon\n",
			wantErr: "time.Duration"},
		{name: "negative window", yaml: "providers:\n  - {name: a, type: webhook, url: https://x.example.com/h}\nbatchWindow: -1s\n",
			wantErr: "batchWindow: must not be negative"},
		{name: "missing secret file", yaml: "providers:\n  - {name: a, type: slack, urlFile: " + filepath.Join(dir, "nope") + "}\n",
			buildErr: "providers[0] (a).urlFile: open " + filepath.Join(dir, "nope")},
		{name: "secret file holds no URL", yaml: "providers:\n  - {name: a, type: slack, urlFile: " + tokenFile + "}\n",
			buildErr: "providers[0] (a).urlFile: must be an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "notify.yaml", tt.yaml)
			c, err := LoadConfig(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadConfig error = %v, want one containing %q", err, tt.wantErr)
				}
				assertNoSecrets(t, "config error", err.Error(), slackHookSecret, testBotToken)
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			n, err := c.Build(WithClock(newFakeClock()))
			if tt.buildErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.buildErr) {
					t.Fatalf("Build error = %v, want one containing %q", err, tt.buildErr)
				}
				assertNoSecrets(t, "build error", err.Error(), slackHookSecret, testBotToken)
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			r := n.(*Router)
			defer func() { _ = r.Close() }()
			if r.dedupIvl != 30*time.Minute || r.window != 5*time.Second {
				t.Errorf("dedupInterval %v, batchWindow %v", r.dedupIvl, r.window)
			}
			wantTypes := map[string]string{"platform-slack": "*notify.Slack", "platform-bot": "*notify.SlackBot",
				"teams": "*notify.Teams", "discord": "*notify.Discord", "chat": "*notify.GoogleChat",
				"plain": "*notify.Webhook", "audit": "*notify.Webhook"}
			for name, want := range wantTypes {
				if got := reflect.TypeOf(r.lanes[name].n).String(); got != want {
					t.Errorf("provider %s is %s, want %s", name, got, want)
				}
			}
			if s := r.lanes["platform-slack"].n.(*Slack); s.URL != "https://hooks.slack.com/services/"+slackHookSecret {
				t.Errorf("urlFile not read (or not trimmed): %q", s.URL)
			}
			if b := r.lanes["platform-bot"].n.(*SlackBot); b.Token != testBotToken || b.Channel != "#platform" {
				t.Errorf("slack-bot = %q %q", b.Token, b.Channel)
			}
			if w := r.lanes["audit"].n.(*Webhook); string(w.Secret) != testHMACSecret {
				t.Errorf("hmac secret = %q", w.Secret)
			}
			assertNoSecrets(t, "provider config printed", fmtAll(c.Providers), slackHookSecret, testBotToken, testHMACSecret)
		})
	}
}

func fmtAll(ps []ProviderConfig) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String() + " " + p.GoString() + "\n")
	}
	return b.String()
}

func TestRouteGlobs(t *testing.T) {
	c, err := ParseConfig([]byte(`
providers:
  - {name: teams-slack, type: webhook, url: https://a.example.com/h}
  - {name: oncall, type: webhook, url: https://b.example.com/h}
  - {name: ops, type: webhook, url: https://c.example.com/h}
routes:
  - tenants: ["team-*"]
    providers: [teams-slack]
  - kinds: [failure, stalled]
    providers: [oncall]
  - kinds: [drift]
    tenants: ["ops-?", "infra"]
    providers: [ops, teams-slack]
`))
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Build(WithClock(newFakeClock()))
	if err != nil {
		t.Fatal(err)
	}
	r := n.(*Router)
	defer func() { _ = r.Close() }()
	tests := []struct {
		event Event
		want  []string
	}{
		{Event{Kind: KindDrift, Tenant: "team-a"}, []string{"teams-slack"}},
		{Event{Kind: KindFailure, Tenant: "team-a"}, []string{"oncall", "teams-slack"}},
		{Event{Kind: KindFailure, Tenant: "billing"}, []string{"oncall"}},
		{Event{Kind: KindDrift, Tenant: "ops-1"}, []string{"ops", "teams-slack"}},
		{Event{Kind: KindDrift, Tenant: "ops-12"}, []string{}},
		{Event{Kind: KindDrift, Tenant: "infra"}, []string{"ops", "teams-slack"}},
		{Event{Kind: KindRecovered, Tenant: "infra"}, []string{}},
		{Event{Kind: KindHeldBack}, []string{}},
		{Event{Kind: KindStalled}, []string{"oncall"}},
		{Event{Kind: KindPruned, Tenant: "team-x"}, []string{"teams-slack"}},
	}
	for _, tt := range tests {
		if got := r.targets(tt.event); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %q → %v, want %v", tt.event.Kind, tt.event.Tenant, got, tt.want)
		}
	}
}

func TestNoRoutesMeansEveryProvider(t *testing.T) {
	c, err := ParseConfig([]byte("providers:\n  - {name: a, type: webhook, url: https://a.example.com/h}\n  - {name: b, type: webhook, url: https://b.example.com/h}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.BuildRouter(WithClock(newFakeClock()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	if got := r.targets(Event{Kind: KindHeldBack}); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("targets = %v", got)
	}
}

// TestConfigEndToEnd runs the built router against a stand-in Slack webhook: a drift,
// its duplicate, then a burst of ten tenants, all over HTTP.
func TestConfigEndToEnd(t *testing.T) {
	c := newCapture(t, nil)
	cfg, err := ParseConfig([]byte(`
providers:
  - name: platform-slack
    type: slack
    url: ` + c.srv.URL + `/services/` + slackHookSecret + `
routes:
  - tenants: ["team-*"]
    providers: [platform-slack]
batchWindow: 10s
`))
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	r, err := cfg.BuildRouter(WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	ctx := context.Background()

	_ = r.Notify(ctx, driftEvent())
	clk.Advance(10 * time.Second)
	r.waitIdle(t)
	_ = r.Notify(ctx, driftEvent())
	clk.Advance(10 * time.Second)
	r.waitIdle(t)
	if c.count() != 1 {
		t.Fatalf("drift and its duplicate: %d requests, want 1", c.count())
	}
	golden(t, "slack_drift", c.body(0))

	for _, e := range burst(10) {
		_ = r.Notify(ctx, e)
	}
	_ = r.Notify(ctx, Event{Kind: KindPruned, Tenant: "other"}) // no route
	clk.Advance(10 * time.Second)
	r.waitIdle(t)
	if c.count() != 2 {
		t.Fatalf("burst of 10: %d requests in all, want 2", c.count())
	}
	body := string(c.body(1))
	if !strings.Contains(body, "10 tenantry events") || !strings.Contains(body, "team-09") {
		t.Errorf("summary payload: %s", body)
	}
	golden(t, "router_slack_burst", c.body(1))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
