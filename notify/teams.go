package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Teams posts to a Microsoft Teams incoming webhook or a Workflows ("Post to a channel
// when a webhook request is received") URL. The payload is a message with one Adaptive
// Card 1.4 attachment:
//
//	{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,
//	  "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4",
//	    "body":[{"type":"TextBlock","text":title,"size":"Medium","weight":"Bolder","color":"Warning","wrap":true},
//	            {"type":"RichTextBlock","inlines":[{"type":"TextRun","text":message}]},
//	            {"type":"FactSet","facts":[{"title":"Tenant","value":"team-a"},…]},
//	            {"type":"TextBlock","text":"Kind/ns/name","weight":"Bolder","wrap":true},
//	            {"type":"RichTextBlock","inlines":[{"type":"TextRun","text":"path: old → new","fontType":"Monospace"}]}],
//	    "actions":[{"type":"Action.OpenUrl","title":"View commit …","url":"https://…"}],
//	    "msteams":{"width":"Full"}}}]}
//
// Text from events (messages, paths, values) goes in RichTextBlock TextRuns, which are
// never read as markdown, so "***" and "[*]" show as written. Workflows answer 202 Accepted.
type Teams struct {
	URL     string
	Client  *http.Client
	Retries int
	Backoff time.Duration
}

// NewTeams returns a notifier for a Teams webhook or Workflows URL.
func NewTeams(u string) *Teams {
	return &Teams{URL: u, Client: defaultClient(), Retries: defaultRetries, Backoff: defaultBackoff}
}

// Notify implements Notifier.
func (t *Teams) Notify(ctx context.Context, e Event) error {
	return t.send(ctx, teamsEventCard(newEventView(Sanitize(e))))
}

// NotifySummary implements BatchNotifier.
func (t *Teams) NotifySummary(ctx context.Context, s Summary) error {
	return t.send(ctx, teamsSummaryCard(newSummaryView(s)))
}

func (t *Teams) send(ctx context.Context, card adaptiveCard) error {
	body, err := marshalJSON(teamsMessage{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}})
	if err != nil {
		return fmt.Errorf("teams: %w", err)
	}
	p := &post{client: t.Client, url: t.URL, body: body, secrets: urlSecrets(t.URL)}
	if err := p.send(ctx, t.Retries, t.Backoff); err != nil {
		return fmt.Errorf("teams: %w", err)
	}
	return nil
}

// String describes t without its URL path and query, which carry the credential.
func (t *Teams) String() string { return "teams " + redact(t.URL) }

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string       `json:"contentType"`
	ContentURL  *string      `json:"contentUrl"`
	Content     adaptiveCard `json:"content"`
}

type adaptiveCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []cardElement  `json:"body"`
	Actions []cardAction   `json:"actions,omitempty"`
	MSTeams map[string]any `json:"msteams,omitempty"`
}

type cardElement struct {
	Type     string     `json:"type"`
	Text     string     `json:"text,omitempty"`
	Size     string     `json:"size,omitempty"`
	Weight   string     `json:"weight,omitempty"`
	Color    string     `json:"color,omitempty"`
	IsSubtle bool       `json:"isSubtle,omitempty"`
	Spacing  string     `json:"spacing,omitempty"`
	Wrap     bool       `json:"wrap,omitempty"`
	Facts    []cardFact `json:"facts,omitempty"`
	// Inlines are the TextRuns of a RichTextBlock: plain text, no markdown.
	Inlines []cardInline `json:"inlines,omitempty"`
}

type cardInline struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	FontType string `json:"fontType,omitempty"`
}

type cardFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type cardAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

func newAdaptiveCard() adaptiveCard {
	return adaptiveCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard",
		Version: "1.4", MSTeams: map[string]any{"width": "Full"}}
}

func teamsColor(sev severity) string {
	switch sev {
	case sevDanger:
		return "Attention"
	case sevWarning:
		return "Warning"
	case sevGood:
		return "Good"
	}
	return "Accent"
}

func teamsTitle(text string, sev severity) cardElement {
	return cardElement{Type: "TextBlock", Text: text, Size: "Medium", Weight: "Bolder", Color: teamsColor(sev), Wrap: true}
}

func teamsText(text string) cardElement {
	return cardElement{Type: "TextBlock", Text: text, Wrap: true}
}

// teamsPlain is text that must not be read as markdown ("***", "[*]", "_"): a
// RichTextBlock with one TextRun, monospace if asked.
func teamsPlain(text string, mono bool, spacing string) cardElement {
	run := cardInline{Type: "TextRun", Text: text}
	if mono {
		run.FontType = "Monospace"
	}
	return cardElement{Type: "RichTextBlock", Spacing: spacing, Inlines: []cardInline{run}}
}

func teamsEventCard(v eventView) adaptiveCard {
	c := newAdaptiveCard()
	c.Body = append(c.Body, teamsTitle(v.Title, kindSeverity(v.Kind)))
	if v.Message != "" {
		c.Body = append(c.Body, teamsPlain(v.Message, false, ""))
	}
	if len(v.Facts) > 0 {
		facts := make([]cardFact, len(v.Facts))
		for i, f := range v.Facts {
			facts[i] = cardFact{Title: f.Name, Value: f.Value}
		}
		c.Body = append(c.Body, cardElement{Type: "FactSet", Facts: facts})
	}
	plain := func(s string) string { return s }
	for _, o := range v.Objects {
		name := o.Name
		if o.Secret {
			name += " (secret: values masked)"
		}
		c.Body = append(c.Body, cardElement{Type: "TextBlock", Text: name, Weight: "Bolder", Spacing: "Medium", Wrap: true})
		var lines []string
		for _, ch := range o.Changes {
			lines = append(lines, changeText(ch, plain, plain))
		}
		lines = append(lines, o.Fields...)
		if o.More > 0 {
			lines = append(lines, fmt.Sprintf("…and %d more", o.More))
		}
		for _, l := range lines {
			c.Body = append(c.Body, teamsPlain(l, true, "None"))
		}
	}
	if v.MoreObjects > 0 {
		c.Body = append(c.Body, teamsText(fmt.Sprintf("…and %d more objects", v.MoreObjects)))
	}
	if v.Time != "" {
		c.Body = append(c.Body, cardElement{Type: "TextBlock", Text: v.Time, IsSubtle: true, Spacing: "Medium", Wrap: true})
	}
	if v.Link != "" {
		c.Actions = []cardAction{{Type: "Action.OpenUrl", Title: v.LinkText, URL: v.Link}}
	}
	return c
}

func teamsSummaryCard(v summaryView) adaptiveCard {
	c := newAdaptiveCard()
	c.Body = append(c.Body, teamsTitle(v.Title, sevInfo))
	if len(v.Counts) > 0 {
		facts := make([]cardFact, len(v.Counts))
		for i, k := range v.Counts {
			facts[i] = cardFact{Title: string(k.Kind), Value: fmt.Sprint(k.N)}
		}
		c.Body = append(c.Body, cardElement{Type: "FactSet", Facts: facts})
	}
	if len(v.Tenants) > 0 {
		text := "Tenants: " + strings.Join(v.Tenants, ", ")
		if v.More > 0 {
			text += fmt.Sprintf(" …and %d more", v.More)
		}
		c.Body = append(c.Body, teamsPlain(text, false, ""))
	}
	for _, l := range v.Lines {
		line := "• " + string(l.Kind)
		if l.Tenant != "" {
			line += " " + l.Tenant
		}
		if l.Message != "" {
			line += ": " + l.Message
		}
		c.Body = append(c.Body, teamsPlain(line, false, "None"))
	}
	if v.MoreLines > 0 {
		c.Body = append(c.Body, teamsPlain(fmt.Sprintf("…and %d more", v.MoreLines), false, "None"))
	}
	if v.Time != "" {
		c.Body = append(c.Body, cardElement{Type: "TextBlock", Text: v.Time, IsSubtle: true, Spacing: "Medium", Wrap: true})
	}
	return c
}
