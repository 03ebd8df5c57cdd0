package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// GoogleChat posts to a Google Chat space webhook
// (https://chat.googleapis.com/v1/spaces/<space>/messages?key=…&token=…). The payload is a
// short text (shown in notifications) plus one cardsV2 card:
//
//	{"text":"Drift corrected in tenant team-a",
//	 "cardsV2":[{"cardId":"tenantry-drift","card":{
//	   "header":{"title":…,"subtitle":"tenantry · drift"},
//	   "sections":[{"widgets":[{"textParagraph":{"text":message}},
//	                           {"decoratedText":{"topLabel":"Tenant","text":"team-a"}},…]},
//	               {"header":"Objects","widgets":[{"textParagraph":{"text":"<b>Kind/ns/name</b><br>path: old → new"}}]},
//	               {"widgets":[{"buttonList":{"buttons":[{"text":"View commit …","onClick":{"openLink":{"url":…}}}]}}]}]}}]}
//
// Card text is Google Chat's HTML subset, so "<", ">" and "&" are escaped.
type GoogleChat struct {
	URL     string
	Client  *http.Client
	Retries int
	Backoff time.Duration
}

// NewGoogleChat returns a notifier for a Google Chat webhook URL.
func NewGoogleChat(u string) *GoogleChat {
	return &GoogleChat{URL: u, Client: defaultClient(), Retries: defaultRetries, Backoff: defaultBackoff}
}

// Notify implements Notifier.
func (g *GoogleChat) Notify(ctx context.Context, e Event) error {
	return g.send(ctx, gchatEventMessage(newEventView(Sanitize(e))))
}

// NotifySummary implements BatchNotifier.
func (g *GoogleChat) NotifySummary(ctx context.Context, s Summary) error {
	return g.send(ctx, gchatSummaryMessage(newSummaryView(s)))
}

func (g *GoogleChat) send(ctx context.Context, m gchatMessage) error {
	body, err := marshalJSON(m)
	if err != nil {
		return fmt.Errorf("google chat: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	p := &post{client: g.Client, url: g.URL, header: h, body: body, secrets: urlSecrets(g.URL)}
	if err := p.send(ctx, g.Retries, g.Backoff); err != nil {
		return fmt.Errorf("google chat: %w", err)
	}
	return nil
}

// String describes g without its URL query, which carries key and token.
func (g *GoogleChat) String() string { return "googlechat " + redact(g.URL) }

type gchatMessage struct {
	Text    string      `json:"text,omitempty"`
	CardsV2 []gchatCard `json:"cardsV2,omitempty"`
}

type gchatCard struct {
	CardID string        `json:"cardId"`
	Card   gchatCardBody `json:"card"`
}

type gchatCardBody struct {
	Header   *gchatHeader   `json:"header,omitempty"`
	Sections []gchatSection `json:"sections"`
}

type gchatHeader struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
}

type gchatSection struct {
	Header  string        `json:"header,omitempty"`
	Widgets []gchatWidget `json:"widgets"`
}

type gchatWidget struct {
	TextParagraph *gchatTextParagraph `json:"textParagraph,omitempty"`
	DecoratedText *gchatDecoratedText `json:"decoratedText,omitempty"`
	ButtonList    *gchatButtonList    `json:"buttonList,omitempty"`
}

type gchatTextParagraph struct {
	Text string `json:"text"`
}

type gchatDecoratedText struct {
	TopLabel string `json:"topLabel"`
	Text     string `json:"text"`
	WrapText bool   `json:"wrapText,omitempty"`
}

type gchatButtonList struct {
	Buttons []gchatButton `json:"buttons"`
}

type gchatButton struct {
	Text    string       `json:"text"`
	OnClick gchatOnClick `json:"onClick"`
}

type gchatOnClick struct {
	OpenLink gchatOpenLink `json:"openLink"`
}

type gchatOpenLink struct {
	URL string `json:"url"`
}

func gchatParagraph(html string) gchatWidget {
	return gchatWidget{TextParagraph: &gchatTextParagraph{Text: html}}
}

func gchatEventMessage(v eventView) gchatMessage {
	main := gchatSection{}
	if v.Message != "" {
		main.Widgets = append(main.Widgets, gchatParagraph(gchatEscape(v.Message)))
	}
	for _, f := range v.Facts {
		main.Widgets = append(main.Widgets, gchatWidget{DecoratedText: &gchatDecoratedText{TopLabel: f.Name, Text: gchatEscape(f.Value), WrapText: true}})
	}
	card := gchatCardBody{Header: &gchatHeader{Title: v.Title, Subtitle: "tenantry · " + string(v.Kind)}}
	if len(main.Widgets) > 0 {
		card.Sections = append(card.Sections, main)
	}
	if len(v.Objects) > 0 {
		objs := gchatSection{Header: "Objects"}
		for _, o := range v.Objects {
			text := "<b>" + gchatEscape(o.Name) + "</b>"
			if o.Secret {
				text += " (secret: values masked)"
			}
			for _, c := range o.Changes {
				text += "<br>" + changeText(c, gchatEscape, gchatEscape)
			}
			for _, f := range o.Fields {
				text += "<br>" + gchatEscape(f)
			}
			if o.More > 0 {
				text += fmt.Sprintf("<br>…and %d more", o.More)
			}
			objs.Widgets = append(objs.Widgets, gchatParagraph(text))
		}
		if v.MoreObjects > 0 {
			objs.Widgets = append(objs.Widgets, gchatParagraph(fmt.Sprintf("…and %d more objects", v.MoreObjects)))
		}
		card.Sections = append(card.Sections, objs)
	}
	foot := gchatSection{}
	if v.Time != "" {
		foot.Widgets = append(foot.Widgets, gchatParagraph(v.Time))
	}
	if v.Link != "" {
		foot.Widgets = append(foot.Widgets, gchatWidget{ButtonList: &gchatButtonList{Buttons: []gchatButton{
			{Text: v.LinkText, OnClick: gchatOnClick{OpenLink: gchatOpenLink{URL: v.Link}}}}}})
	}
	if len(foot.Widgets) > 0 {
		card.Sections = append(card.Sections, foot)
	}
	return gchatMessage{Text: v.Title, CardsV2: []gchatCard{{CardID: "tenantry-" + string(v.Kind), Card: card}}}
}

func gchatSummaryMessage(v summaryView) gchatMessage {
	var counts []string
	main := gchatSection{}
	for _, c := range v.Counts {
		counts = append(counts, fmt.Sprintf("%d %s", c.N, c.Kind))
		main.Widgets = append(main.Widgets, gchatWidget{DecoratedText: &gchatDecoratedText{TopLabel: string(c.Kind), Text: fmt.Sprint(c.N)}})
	}
	card := gchatCardBody{Header: &gchatHeader{Title: v.Title, Subtitle: "tenantry · summary"}}
	if len(main.Widgets) > 0 {
		card.Sections = append(card.Sections, main)
	}
	if len(v.Tenants) > 0 {
		text := gchatEscape(strings.Join(v.Tenants, ", "))
		if v.More > 0 {
			text += fmt.Sprintf(" …and %d more", v.More)
		}
		card.Sections = append(card.Sections, gchatSection{Header: "Tenants", Widgets: []gchatWidget{gchatParagraph(text)}})
	}
	if len(v.Lines) > 0 {
		var lines []string
		for _, l := range v.Lines {
			line := "<b>" + gchatEscape(string(l.Kind)) + "</b>"
			if l.Tenant != "" {
				line += " " + gchatEscape(l.Tenant)
			}
			if l.Message != "" {
				line += ": " + gchatEscape(l.Message)
			}
			lines = append(lines, line)
		}
		if v.MoreLines > 0 {
			lines = append(lines, fmt.Sprintf("…and %d more", v.MoreLines))
		}
		card.Sections = append(card.Sections, gchatSection{Header: "Events", Widgets: []gchatWidget{gchatParagraph(strings.Join(lines, "<br>"))}})
	}
	if v.Time != "" {
		card.Sections = append(card.Sections, gchatSection{Widgets: []gchatWidget{gchatParagraph(v.Time)}})
	}
	return gchatMessage{Text: v.Title + ": " + strings.Join(counts, ", "),
		CardsV2: []gchatCard{{CardID: "tenantry-summary", Card: card}}}
}

// gchatEscape escapes text for Google Chat's card HTML subset.
func gchatEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
