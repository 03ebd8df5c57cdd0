package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Slack posts to a Slack incoming webhook (https://hooks.slack.com/services/...).
//
// The payload is a Block Kit message, {"text": fallback, "blocks": [...]}:
//
//	{"text":":warning: Drift corrected in tenant team-a",
//	 "blocks":[{"type":"header","text":{"type":"plain_text","text":"…","emoji":true}},
//	           {"type":"section","text":{"type":"mrkdwn","text":"message"}},
//	           {"type":"section","fields":[{"type":"mrkdwn","text":"*Tenant*\nteam-a"},…]},
//	           {"type":"section","text":{"type":"mrkdwn","text":"*Objects*\n• `Kind/ns/name`\n    ◦ `path`: `old` → `new`"}},
//	           {"type":"context","elements":[{"type":"mrkdwn","text":"<https://…/commit/…|View commit …>"},…]}]}
//
// Slack answers 200 "ok", or 400/403/404/410 with an error code such as "no_service".
type Slack struct {
	URL     string
	Client  *http.Client
	Retries int
	Backoff time.Duration
}

// NewSlack returns a notifier for a Slack incoming webhook URL.
func NewSlack(u string) *Slack {
	return &Slack{URL: u, Client: defaultClient(), Retries: defaultRetries, Backoff: defaultBackoff}
}

// Notify implements Notifier.
func (s *Slack) Notify(ctx context.Context, e Event) error {
	return s.send(ctx, slackEventMessage(newEventView(Sanitize(e))))
}

// NotifySummary implements BatchNotifier.
func (s *Slack) NotifySummary(ctx context.Context, sum Summary) error {
	return s.send(ctx, slackSummaryMessage(newSummaryView(sum)))
}

func (s *Slack) send(ctx context.Context, m slackMessage) error {
	body, err := marshalJSON(m)
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	p := &post{client: s.Client, url: s.URL, body: body, secrets: urlSecrets(s.URL)}
	if err := p.send(ctx, s.Retries, s.Backoff); err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// String describes s without its URL path, which is the credential.
func (s *Slack) String() string { return "slack " + redact(s.URL) }

// Slack Block Kit limits.
const (
	slackHeaderRunes  = 150
	slackSectionRunes = 3000
	slackFieldRunes   = 2000
	slackMaxFields    = 10
)

type slackMessage struct {
	Channel string       `json:"channel,omitempty"`
	Text    string       `json:"text"`
	Blocks  []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

func slackEmoji(sev severity) string {
	switch sev {
	case sevDanger:
		return ":rotating_light:"
	case sevWarning:
		return ":warning:"
	case sevGood:
		return ":white_check_mark:"
	}
	return ":information_source:"
}

func slackEventMessage(v eventView) slackMessage {
	emoji := slackEmoji(kindSeverity(v.Kind))
	m := slackMessage{
		Text:   emoji + " " + slackEscape(v.Title),
		Blocks: []slackBlock{slackHeader(emoji + " " + v.Title)},
	}
	if v.Message != "" {
		m.Blocks = append(m.Blocks, slackSection(slackEscape(v.Message)))
	}
	if len(v.Facts) > 0 {
		fields := make([]slackText, 0, len(v.Facts))
		for i, f := range v.Facts {
			if i == slackMaxFields {
				break
			}
			fields = append(fields, slackText{Type: "mrkdwn", Text: truncate("*"+f.Name+"*\n"+slackEscape(f.Value), slackFieldRunes)})
		}
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Fields: fields})
	}
	if len(v.Objects) > 0 {
		var b strings.Builder
		b.WriteString("*Objects*")
		for _, o := range v.Objects {
			b.WriteString("\n• " + slackCode(o.Name))
			if o.Secret {
				b.WriteString(" (secret: values masked)")
			}
			for _, c := range o.Changes {
				b.WriteString("\n    ◦ " + changeText(c, slackCode, slackCode))
			}
			for _, f := range o.Fields {
				b.WriteString("\n    ◦ " + slackCode(f))
			}
			if o.More > 0 {
				fmt.Fprintf(&b, "\n    ◦ …and %d more", o.More)
			}
		}
		if v.MoreObjects > 0 {
			fmt.Fprintf(&b, "\n…and %d more objects", v.MoreObjects)
		}
		m.Blocks = append(m.Blocks, slackSection(b.String()))
	}
	var ctx []slackText
	if v.Link != "" {
		ctx = append(ctx, slackText{Type: "mrkdwn", Text: "<" + v.Link + "|" + slackEscape(v.LinkText) + ">"})
	}
	if v.Time != "" {
		ctx = append(ctx, slackText{Type: "mrkdwn", Text: v.Time})
	}
	if len(ctx) > 0 {
		m.Blocks = append(m.Blocks, slackBlock{Type: "context", Elements: ctx})
	}
	return m
}

func slackSummaryMessage(v summaryView) slackMessage {
	emoji := ":bell:"
	var counts []string
	fields := []slackText{}
	for i, c := range v.Counts {
		counts = append(counts, fmt.Sprintf("%d %s", c.N, c.Kind))
		if i < slackMaxFields {
			fields = append(fields, slackText{Type: "mrkdwn", Text: fmt.Sprintf("*%s*\n%d", slackEscape(string(c.Kind)), c.N)})
		}
	}
	m := slackMessage{
		Text:   emoji + " " + slackEscape(v.Title) + ": " + strings.Join(counts, ", "),
		Blocks: []slackBlock{slackHeader(emoji + " " + v.Title)},
	}
	if len(fields) > 0 {
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Fields: fields})
	}
	if len(v.Tenants) > 0 {
		names := make([]string, len(v.Tenants))
		for i, t := range v.Tenants {
			names[i] = slackCode(t)
		}
		text := "*Tenants*\n" + strings.Join(names, ", ")
		if v.More > 0 {
			text += fmt.Sprintf(" …and %d more", v.More)
		}
		m.Blocks = append(m.Blocks, slackSection(text))
	}
	if len(v.Lines) > 0 {
		var b strings.Builder
		b.WriteString("*Events*")
		for _, l := range v.Lines {
			b.WriteString("\n• " + slackEscape(string(l.Kind)))
			if l.Tenant != "" {
				b.WriteString(" " + slackCode(l.Tenant))
			}
			if l.Message != "" {
				b.WriteString(": " + slackEscape(l.Message))
			}
		}
		if v.MoreLines > 0 {
			fmt.Fprintf(&b, "\n…and %d more", v.MoreLines)
		}
		m.Blocks = append(m.Blocks, slackSection(b.String()))
	}
	if v.Time != "" {
		m.Blocks = append(m.Blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: v.Time}}})
	}
	return m
}

func slackHeader(text string) slackBlock {
	return slackBlock{Type: "header", Text: &slackText{Type: "plain_text", Text: truncate(text, slackHeaderRunes), Emoji: true}}
}

func slackSection(mrkdwn string) slackBlock {
	return slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: truncate(mrkdwn, slackSectionRunes)}}
}

// slackEscape escapes the three characters Slack's mrkdwn reserves.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// slackCode is s as inline code; a backtick inside would end it early.
func slackCode(s string) string {
	return "`" + strings.ReplaceAll(slackEscape(s), "`", "ˋ") + "`"
}
