package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Delivery defaults shared by every provider.
const (
	defaultRetries = 3
	defaultBackoff = 500 * time.Millisecond
	defaultTimeout = 10 * time.Second
	maxBackoff     = 30 * time.Second
	maxRetryAfter  = 60 * time.Second
	maxErrorBody   = 200
	userAgent      = "tenantry-notify"
)

func defaultClient() *http.Client { return &http.Client{Timeout: defaultTimeout} }

func clientOr(c *http.Client) *http.Client {
	if c == nil {
		return defaultClient()
	}
	return c
}

// marshalJSON encodes v compactly without HTML escaping (payloads carry "<", ">" and "&"
// as markup for Slack and Google Chat).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding payload: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// post is one JSON POST to a provider.
type post struct {
	client *http.Client
	url    string
	header http.Header
	body   []byte
	// secrets are scrubbed from any response text put into an error.
	secrets []string
	// check inspects a 2xx response body; nil accepts every 2xx.
	check func(body []byte) (retry bool, err error)
}

// attempt makes one request. retry says the error is transient; wait is the delay the
// server asked for (Retry-After), if any.
func (p *post) attempt(ctx context.Context) (retry bool, wait time.Duration, err error) {
	target := redact(p.url)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return false, 0, fmt.Errorf("building request to %s: %w", target, unwrapURLError(err))
	}
	for k, vs := range p.header {
		req.Header[k] = vs
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := clientOr(p.client).Do(req)
	if err != nil {
		return ctx.Err() == nil, 0, fmt.Errorf("posting to %s: %w", target, unwrapURLError(err))
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if p.check == nil {
			return false, 0, nil
		}
		retry, err := p.check(data)
		if err != nil {
			return retry, 0, fmt.Errorf("posting to %s: %w", target, err)
		}
		return false, 0, nil
	}
	retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	return retry, retryAfter(resp.Header), fmt.Errorf("posting to %s: %s%s", target, resp.Status, p.snippet(data))
}

// snippet is a short, scrubbed excerpt of a response body for an error message.
func (p *post) snippet(data []byte) string {
	s := scrub(string(data), p.secrets)
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	if len(s) > maxErrorBody {
		s = s[:maxErrorBody]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return ": " + s
}

// send posts with retries.
func (p *post) send(ctx context.Context, retries int, backoff time.Duration) error {
	return withRetries(ctx, retries, backoff, p.attempt)
}

// withRetries calls attempt until it succeeds, fails permanently or retries attempts
// were retried, waiting backoff, 2*backoff, ... (capped at maxBackoff, or longer when the
// server asked with Retry-After, up to maxRetryAfter) between attempts.
func withRetries(ctx context.Context, retries int, backoff time.Duration,
	attempt func(context.Context) (bool, time.Duration, error)) error {
	if backoff <= 0 {
		backoff = defaultBackoff
	}
	for n := 0; ; n++ {
		retry, wait, err := attempt(ctx)
		if err == nil || !retry || n >= retries {
			return err
		}
		d := backoff << min(n, 20)
		if d > maxBackoff || d <= 0 {
			d = maxBackoff
		}
		if wait > d {
			d = min(wait, maxRetryAfter)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up retrying: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// redact keeps scheme and host of a URL: webhook paths and queries often carry tokens.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<invalid url>"
	}
	return u.Scheme + "://" + u.Host + "/<redacted>"
}

// urlSecrets lists the parts of a URL that may carry a credential: the whole URL, its
// path and query, user info, and every path segment and query value of 6+ characters.
func urlSecrets(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	out = append(out, u.RequestURI(), u.Path, u.RawQuery)
	if u.User != nil {
		out = append(out, u.User.String(), u.User.Username())
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		}
	}
	out = append(out, strings.Split(u.Path, "/")...)
	for _, vs := range u.Query() {
		out = append(out, vs...)
	}
	return out
}

// scrub replaces every secret of 6+ characters in s, longest first.
func scrub(s string, secrets []string) string {
	var keep []string
	for _, sec := range secrets {
		if len(sec) >= 6 {
			keep = append(keep, sec)
		}
	}
	// Longest first, so a URL is replaced whole before its parts.
	sort.SliceStable(keep, func(i, j int) bool { return len(keep[i]) > len(keep[j]) })
	for _, sec := range keep {
		s = strings.ReplaceAll(s, sec, "<redacted>")
	}
	return s
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok { //nolint:errorlint // only the outermost url.Error carries the URL
		return ue.Err
	}
	return err
}
