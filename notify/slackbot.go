package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultSlackAPIURL is the Slack Web API base URL.
const DefaultSlackAPIURL = "https://slack.com/api"

// SlackBot posts with a bot token through the Web API method chat.postMessage:
//
//	POST {APIURL}/chat.postMessage
//	Authorization: Bearer xoxb-…
//	Content-Type: application/json; charset=utf-8
//	{"channel":"#platform","text":fallback,"blocks":[…same blocks as Slack…]}
//
// Slack answers HTTP 200 with {"ok":true,…} or {"ok":false,"error":"channel_not_found"}:
// ok=false is an error, retried unless the error code is one that a retry cannot fix
// (auth, channel and payload errors); 429 is retried after Retry-After.
type SlackBot struct {
	// APIURL is the Web API base URL; DefaultSlackAPIURL when empty. Tests point it elsewhere.
	APIURL  string
	Token   string
	Channel string
	Client  *http.Client
	Retries int
	Backoff time.Duration
}

// NewSlackBot returns a notifier posting to channel with a bot token.
func NewSlackBot(token, channel string) *SlackBot {
	return &SlackBot{APIURL: DefaultSlackAPIURL, Token: token, Channel: channel,
		Client: defaultClient(), Retries: defaultRetries, Backoff: defaultBackoff}
}

// Notify implements Notifier.
func (s *SlackBot) Notify(ctx context.Context, e Event) error {
	return s.send(ctx, slackEventMessage(newEventView(Sanitize(e))))
}

// NotifySummary implements BatchNotifier.
func (s *SlackBot) NotifySummary(ctx context.Context, sum Summary) error {
	return s.send(ctx, slackSummaryMessage(newSummaryView(sum)))
}

func (s *SlackBot) send(ctx context.Context, m slackMessage) error {
	if s.Token == "" || s.Channel == "" {
		return errors.New("slack chat.postMessage: token and channel are required")
	}
	m.Channel = s.Channel
	body, err := marshalJSON(m)
	if err != nil {
		return fmt.Errorf("slack chat.postMessage: %w", err)
	}
	base := s.APIURL
	if base == "" {
		base = DefaultSlackAPIURL
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Authorization", "Bearer "+s.Token)
	p := &post{client: s.Client, url: strings.TrimSuffix(base, "/") + "/chat.postMessage", header: h, body: body,
		secrets: []string{s.Token}, check: s.check}
	if err := p.send(ctx, s.Retries, s.Backoff); err != nil {
		return fmt.Errorf("slack chat.postMessage: %w", err)
	}
	return nil
}

// slackPermanent are chat.postMessage error codes that a retry cannot fix.
var slackPermanent = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "no_permission": true, "missing_scope": true, "org_login_required": true,
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "restricted_action": true,
	"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true, "no_text": true,
	"too_many_attachments": true, "invalid_arguments": true, "invalid_arg_name": true,
	"invalid_json": true, "json_not_object": true, "invalid_form_data": true, "invalid_charset": true,
	"ekm_access_denied": true, "access_denied": true, "team_access_not_granted": true,
}

// ErrSlackNotOK is wrapped by the error of a chat.postMessage answered with ok=false.
var ErrSlackNotOK = errors.New("slack answered ok=false")

func (s *SlackBot) check(body []byte) (retry bool, err error) {
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return true, fmt.Errorf("decoding the answer: %w", err)
	}
	if r.OK {
		return false, nil
	}
	code := scrub(r.Error, []string{s.Token})
	if code == "" {
		code = "unknown error"
	}
	return !slackPermanent[r.Error], fmt.Errorf("%w: %s", ErrSlackNotOK, code)
}

// String describes s without its token.
func (s *SlackBot) String() string { return "slack-bot " + s.Channel }
