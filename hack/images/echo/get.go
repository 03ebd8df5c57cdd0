package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// getOptions are the flags of `echo get`.
type getOptions struct {
	tokenFile, caFile string
	retry             time.Duration
	// every and window make `get` call every URL once per period for the window (repeat).
	every, window time.Duration
}

// getAll resolves and fetches every URL in turn, retrying each until it answers 2xx or
// the retry window ends.
func getAll(ctx context.Context, args []string, out io.Writer) error {
	var o getOptions
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	fs.StringVar(&o.tokenFile, "token", "", "file holding a bearer token to send")
	fs.StringVar(&o.caFile, "ca", "", "PEM file of CAs to trust for https")
	fs.DurationVar(&o.retry, "retry", 30*time.Second, "keep retrying each URL this long")
	fs.DurationVar(&o.every, "every", 0, "call every URL once per period, without retries, for -for; one line per call")
	fs.DurationVar(&o.window, "for", time.Minute, "with -every: how long to keep calling")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client, err := o.client()
	if err != nil {
		return err
	}
	if o.every > 0 {
		return o.repeat(ctx, client, fs.Args(), out)
	}
	for _, raw := range fs.Args() {
		if err := o.getWithRetry(ctx, client, raw, out); err != nil {
			return err
		}
	}
	return nil
}

func (o getOptions) getWithRetry(ctx context.Context, client *http.Client, raw string, out io.Writer) error {
	deadline := time.Now().Add(o.retry)
	for {
		token, err := o.token()
		if err == nil {
			err = get(ctx, client, raw, token, out)
		}
		if err == nil || time.Now().After(deadline) {
			return err
		}
		fmt.Fprintf(os.Stderr, "echo: %s: %v (retrying)\n", raw, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", raw, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// get prints "resolve HOST: ADDRS" then "GET URL: STATUS" and the body; a non-empty token
// is sent as a bearer token.
func get(ctx context.Context, client *http.Client, raw, token string, out io.Writer) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parsing %q: %w", raw, err)
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, u.Hostname())
	if err != nil {
		return fmt.Errorf("resolving %s: %w", u.Hostname(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", raw, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", raw, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading %s: %w", raw, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s: %s", raw, resp.Status, strings.TrimSpace(string(body)))
	}
	_, err = fmt.Fprintf(out, "resolve %s: %s\nGET %s: %s\n%s\n", u.Hostname(), strings.Join(addrs, ","), raw, resp.Status, body)
	return err
}

// token reads the bearer token file anew; "" without -token.
func (o getOptions) token() (string, error) {
	if o.tokenFile == "" {
		return "", nil
	}
	token, err := os.ReadFile(o.tokenFile)
	if err != nil {
		return "", fmt.Errorf("reading token: %w", err)
	}
	return strings.TrimSpace(string(token)), nil
}

func (o getOptions) client() (*http.Client, error) {
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA: %w", err)
		}
		tlsCfg.RootCAs = x509.NewCertPool()
		if !tlsCfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificate in %s", o.caFile)
		}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}, nil
}
