package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Webhook posts each event as JSON to a URL, retrying server errors with backoff.
type Webhook struct {
	URL     string
	Client  *http.Client
	Retries int
	Backoff time.Duration
}

// NewWebhook returns a generic JSON webhook notifier.
func NewWebhook(u string) *Webhook {
	return &Webhook{URL: u, Client: &http.Client{Timeout: 10 * time.Second}, Retries: 3, Backoff: 500 * time.Millisecond}
}

// Notify implements Notifier.
func (w *Webhook) Notify(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	backoff := w.Backoff
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil || !retry || attempt >= w.Retries {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("notifying %s: %w", redact(w.URL), ctx.Err())
		case <-time.After(backoff):
			backoff *= 2
		}
	}
}

func (w *Webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("building request to %s: %w", redact(w.URL), err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.Client.Do(req)
	if err != nil {
		return true, fmt.Errorf("posting to %s: %w", redact(w.URL), unwrapURLError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests,
			fmt.Errorf("posting to %s: %s", redact(w.URL), resp.Status)
	}
	return false, nil
}

// redact keeps scheme and host of a URL: webhook paths and queries often carry tokens.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid url>"
	}
	return u.Scheme + "://" + u.Host + "/<redacted>"
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok { //nolint:errorlint // only the outermost url.Error carries the URL
		return ue.Err
	}
	return err
}
