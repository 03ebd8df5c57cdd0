package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Webhook posts each event as JSON to a URL, retrying server errors with backoff.
//
// The payload is the sanitized Event plus a commit link:
//
//	{"kind":"drift","tenant":"team-a","revision":"main@sha1:…","message":"…",
//	 "objects":[{"object":"ConfigMap/team-a/x","fields":["data.k"],"changes":[{"path":"data.k","old":"1","new":"2"}]}],
//	 "corrected":true,"time":"…","author":"…","commitMessage":"…","repoURL":"https://…","commitURL":"https://…"}
//
// and a batch is one Summary ({"kind":"summary","message":…,"count":…,"counts":{…},
// "tenants":[…],"events":[…],"time":…}). With Secret set (see NewHMACWebhook), each request
// carries SignatureHeader: "sha256=" + hex(HMAC-SHA256(Secret, body)).
type Webhook struct {
	URL     string
	Client  *http.Client
	Retries int
	Backoff time.Duration
	// Secret, when set, signs every body (see Sign).
	Secret []byte
}

// NewWebhook returns a generic JSON webhook notifier.
func NewWebhook(u string) *Webhook {
	return &Webhook{URL: u, Client: defaultClient(), Retries: defaultRetries, Backoff: defaultBackoff}
}

// webhookEvent is the generic webhook payload of one event.
type webhookEvent struct {
	Event
	CommitURL string `json:"commitURL,omitempty"`
}

// Notify implements Notifier.
func (w *Webhook) Notify(ctx context.Context, e Event) error {
	e = Sanitize(e)
	return w.send(ctx, webhookEvent{Event: e, CommitURL: CommitURL(e.RepoURL, e.Revision)})
}

// NotifySummary implements BatchNotifier.
func (w *Webhook) NotifySummary(ctx context.Context, s Summary) error {
	return w.send(ctx, s)
}

func (w *Webhook) send(ctx context.Context, payload any) error {
	body, err := marshalJSON(payload)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	h := http.Header{}
	if len(w.Secret) > 0 {
		h.Set(SignatureHeader, Sign(w.Secret, body))
	}
	p := &post{client: w.Client, url: w.URL, header: h, body: body, secrets: append(urlSecrets(w.URL), string(w.Secret))}
	if err := p.send(ctx, w.Retries, w.Backoff); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

// String describes w without its URL path, which often carries a token.
func (w *Webhook) String() string {
	if len(w.Secret) > 0 {
		return "hmac-webhook " + redact(w.URL)
	}
	return "webhook " + redact(w.URL)
}
