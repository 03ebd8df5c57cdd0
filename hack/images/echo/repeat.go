package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"
)

// repeat calls every URL once per o.every until o.window has passed, printing one line per
// call: "call N token FINGERPRINT: ok URL" or "call N token FINGERPRINT: FAIL error". The
// fingerprint (a hash prefix, never the token) shows when the mounted token changed. It
// fails when any call failed.
func (o getOptions) repeat(ctx context.Context, client *http.Client, urls []string, out io.Writer) error {
	deadline := time.Now().Add(o.window)
	failed := 0
	for n := 1; ; n++ {
		for _, raw := range urls {
			token, err := o.token()
			if err == nil {
				err = get(ctx, client, raw, token, io.Discard)
			}
			status := "ok " + raw
			if err != nil {
				failed++
				status = "FAIL " + err.Error()
			}
			if _, werr := fmt.Fprintf(out, "call %d token %s: %s\n", n, fingerprint(token), status); werr != nil {
				return werr
			}
		}
		if time.Now().Add(o.every).After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.every):
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d calls failed", failed)
	}
	return nil
}

// fingerprint is the first 12 hex digits of the token's SHA-256, or "none".
func fingerprint(token string) string {
	if token == "" {
		return "none"
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}
