// Package podtokens is the platform's setting for the service account tokens virtual clusters
// issue to pods: rendered by the agent, applied by the syncer.
package podtokens

import (
	"errors"
	"fmt"
	"time"
)

// Bounds and default of Tokens.ExpirationSeconds. The minimum is TokenRequest's; the
// maximum keeps a leaked token short-lived and is the kubelet's longest refresh period.
const (
	DefaultTokenSeconds = int64(3600)
	MinTokenSeconds     = int64(600)
	MaxTokenSeconds     = int64(24 * 3600)
)

// maxRefresh is the kubelet's rule: a token is refreshed at the latest 24 hours after it was issued.
const maxRefresh = 24 * time.Hour

// Tokens is how long the service account tokens the syncer issues for pods live and when
// they are refreshed. It is a platform setting (vcluster.yaml tokens): no tenant input sets it.
type Tokens struct {
	// ExpirationSeconds is the lifetime of a pod's token and the most a pod's projected
	// serviceAccountToken source gets (a longer expirationSeconds is cut to it); default
	// 3600, between MinTokenSeconds and MaxTokenSeconds.
	ExpirationSeconds int64 `json:"expirationSeconds,omitempty"`
	// RefreshSeconds, when set, refreshes tokens this long after they were issued instead
	// of when 80% of their lifetime has passed (the kubelet's rule); it must be shorter
	// than ExpirationSeconds. Tests use it: TokenRequest's minimum lifetime is 10 minutes.
	RefreshSeconds int64 `json:"refreshSeconds,omitempty"`
}

// Lifetime is the lifetime to request for a token that asks for want seconds (0: the
// default): want cut to ExpirationSeconds.
func (t Tokens) Lifetime(want int64) int64 {
	limit := t.ExpirationSeconds
	if limit == 0 {
		limit = DefaultTokenSeconds
	}
	if want == 0 || want > limit {
		return limit
	}
	return want
}

// RefreshAt is when a token issued at issued and expiring at expires is refreshed: after
// RefreshSeconds when set, else when 80% of its lifetime has passed, and never later than
// 24 hours after it was issued.
func (t Tokens) RefreshAt(issued, expires time.Time) time.Time {
	after := expires.Sub(issued) * 8 / 10
	if t.RefreshSeconds > 0 {
		after = time.Duration(t.RefreshSeconds) * time.Second
	}
	return issued.Add(min(after, maxRefresh))
}

// Validate keeps the lifetime within MinTokenSeconds and MaxTokenSeconds and the refresh
// before the expiry.
func (t Tokens) Validate() error {
	var errs []error
	if t.ExpirationSeconds != 0 && (t.ExpirationSeconds < MinTokenSeconds || t.ExpirationSeconds > MaxTokenSeconds) {
		errs = append(errs, fmt.Errorf("tokens.expirationSeconds must be between %d and %d, not %d",
			MinTokenSeconds, MaxTokenSeconds, t.ExpirationSeconds))
	}
	if lifetime := t.Lifetime(0); t.RefreshSeconds < 0 || t.RefreshSeconds >= lifetime {
		errs = append(errs, fmt.Errorf("tokens.refreshSeconds must be positive and below the token lifetime (%d), not %d",
			lifetime, t.RefreshSeconds))
	}
	return errors.Join(errs...)
}
