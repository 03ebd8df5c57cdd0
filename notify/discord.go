package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Discord posts to a Discord channel webhook (https://discord.com/api/webhooks/<id>/<token>).
// The payload is content plus one embed; mentions are disabled so text from commits
// cannot ping @everyone:
//
//	{"content":"Drift corrected in tenant team-a",
//	 "embeds":[{"title":…,"description":message,"url":commit link,"color":15105570,
//	            "fields":[{"name":"Tenant","value":"team-a","inline":true},…,
//	                      {"name":"Kind/ns/name","value":"`path`: `old` → `new`","inline":false}],
//	            "timestamp":"2026-01-02T03:04:05Z","footer":{"text":"tenantry"}}],
//	 "allowed_mentions":{"parse":[]}}
//
// Discord answers 204 No Content, or 429 with Retry-After.
type Discord struct {
	URL     string
	Client  *http.Client
	Retries int
	Backoff time.Duration
}

// NewDiscord returns a notifier for a Discord webhook URL.
func NewDiscord(u string) *Discord {
	return &Discord{URL: u, Client: defaultClient(), Retries: defaultRetries, Backoff: defaultBackoff}
}

// Notify implements Notifier.
func (d *Discord) Notify(ctx context.Context, e Event) error {
	return d.send(ctx, discordEventMessage(newEventView(Sanitize(e))))
}

// NotifySummary implements BatchNotifier.
func (d *Discord) NotifySummary(ctx context.Context, s Summary) error {
	return d.send(ctx, discordSummaryMessage(newSummaryView(s)))
}

func (d *Discord) send(ctx context.Context, m discordMessage) error {
	body, err := marshalJSON(m)
	if err != nil {
		return fmt.Errorf("discord: %w", err)
	}
	p := &post{client: d.Client, url: d.URL, body: body, secrets: urlSecrets(d.URL)}
	if err := p.send(ctx, d.Retries, d.Backoff); err != nil {
		return fmt.Errorf("discord: %w", err)
	}
	return nil
}

// String describes d without its URL path, which carries the token.
func (d *Discord) String() string { return "discord " + redact(d.URL) }

// Discord embed limits.
const (
	discordContentRunes = 2000
	discordTitleRunes   = 256
	discordDescRunes    = 4096
	discordNameRunes    = 256
	discordValueRunes   = 1024
	discordMaxFields    = 25
)

type discordMessage struct {
	Content         string          `json:"content"`
	Embeds          []discordEmbed  `json:"embeds"`
	AllowedMentions discordMentions `json:"allowed_mentions"`
}

type discordMentions struct {
	Parse []string `json:"parse"`
}

type discordEmbed struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	URL         string         `json:"url,omitempty"`
	Color       int            `json:"color"`
	Fields      []discordField `json:"fields,omitempty"`
	Timestamp   string         `json:"timestamp,omitempty"`
	Footer      *discordFooter `json:"footer,omitempty"`
}

type discordField struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

type discordFooter struct {
	Text string `json:"text"`
}

func discordColor(sev severity) int {
	switch sev {
	case sevDanger:
		return 0xE74C3C
	case sevWarning:
		return 0xE67E22
	case sevGood:
		return 0x2ECC71
	}
	return 0x3498DB
}

func discordEventMessage(v eventView) discordMessage {
	e := discordEmbed{
		Title:       truncate(v.Title, discordTitleRunes),
		Description: truncate(v.Message, discordDescRunes),
		URL:         v.Link,
		Color:       discordColor(kindSeverity(v.Kind)),
		Timestamp:   v.Time,
		Footer:      &discordFooter{Text: "tenantry"},
	}
	for _, f := range v.Facts {
		e.Fields = append(e.Fields, discordField{Name: f.Name, Value: truncate(f.Value, discordValueRunes), Inline: true})
	}
	for _, o := range v.Objects {
		if len(e.Fields) == discordMaxFields-1 {
			break
		}
		var lines []string
		if o.Secret {
			lines = append(lines, "(secret: values masked)")
		}
		for _, c := range o.Changes {
			lines = append(lines, changeText(c, discordCode, discordCode))
		}
		for _, f := range o.Fields {
			lines = append(lines, discordCode(f))
		}
		if o.More > 0 {
			lines = append(lines, fmt.Sprintf("…and %d more", o.More))
		}
		if len(lines) == 0 {
			lines = []string{"(changed)"}
		}
		e.Fields = append(e.Fields, discordField{Name: truncate(o.Name, discordNameRunes),
			Value: truncate(strings.Join(lines, "\n"), discordValueRunes)})
	}
	if v.MoreObjects > 0 {
		e.Fields = append(e.Fields, discordField{Name: "More", Value: fmt.Sprintf("…and %d more objects", v.MoreObjects)})
	}
	return discordMessage{Content: truncate(v.Title, discordContentRunes), Embeds: []discordEmbed{e},
		AllowedMentions: discordMentions{Parse: []string{}}}
}

func discordSummaryMessage(v summaryView) discordMessage {
	e := discordEmbed{Title: truncate(v.Title, discordTitleRunes), Color: discordColor(sevInfo), Timestamp: v.Time,
		Footer: &discordFooter{Text: "tenantry"}}
	var counts []string
	for _, c := range v.Counts {
		counts = append(counts, fmt.Sprintf("%d %s", c.N, c.Kind))
		if len(e.Fields) < discordMaxFields-2 {
			e.Fields = append(e.Fields, discordField{Name: string(c.Kind), Value: fmt.Sprint(c.N), Inline: true})
		}
	}
	if len(v.Tenants) > 0 {
		names := make([]string, len(v.Tenants))
		for i, t := range v.Tenants {
			names[i] = discordCode(t)
		}
		text := strings.Join(names, ", ")
		if v.More > 0 {
			text += fmt.Sprintf(" …and %d more", v.More)
		}
		e.Fields = append(e.Fields, discordField{Name: "Tenants", Value: truncate(text, discordValueRunes)})
	}
	var lines []string
	for _, l := range v.Lines {
		line := "• " + string(l.Kind)
		if l.Tenant != "" {
			line += " " + discordCode(l.Tenant)
		}
		if l.Message != "" {
			line += ": " + l.Message
		}
		lines = append(lines, line)
	}
	if v.MoreLines > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more", v.MoreLines))
	}
	e.Description = truncate(strings.Join(lines, "\n"), discordDescRunes)
	return discordMessage{Content: truncate(v.Title+": "+strings.Join(counts, ", "), discordContentRunes),
		Embeds: []discordEmbed{e}, AllowedMentions: discordMentions{Parse: []string{}}}
}

// discordCode is s as inline code; a backtick inside would end it early.
func discordCode(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "ˋ") + "`"
}
