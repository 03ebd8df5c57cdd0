package podtokens

import (
	"testing"
	"time"
)

func TestTokenLifetime(t *testing.T) {
	tests := []struct {
		name      string
		tokens    Tokens
		want, got int64
	}{
		{name: "default token, default lifetime", want: 0, got: 3600},
		{name: "default token, platform lifetime", tokens: Tokens{ExpirationSeconds: 900}, want: 0, got: 900},
		{name: "shorter source kept", want: 600, got: 600},
		{name: "longer source cut to the default", want: 7 * 24 * 3600, got: 3600},
		{name: "longer source cut to the platform's", tokens: Tokens{ExpirationSeconds: 7200}, want: 86400, got: 7200},
		{name: "the legacy 3607 is cut, never extended", want: 3607, got: 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tokens.Lifetime(tt.want); got != tt.got {
				t.Errorf("Lifetime(%d) = %d, want %d", tt.want, got, tt.got)
			}
		})
	}
}

func TestTokenRefreshAt(t *testing.T) {
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		tokens   Tokens
		lifetime time.Duration
		after    time.Duration
	}{
		{name: "80% of an hour", lifetime: time.Hour, after: 48 * time.Minute},
		{name: "80% of ten minutes", lifetime: 10 * time.Minute, after: 8 * time.Minute},
		{name: "at most 24h after issue", lifetime: 48 * time.Hour, after: 24 * time.Hour},
		{name: "explicit refresh wins", tokens: Tokens{RefreshSeconds: 20}, lifetime: 10 * time.Minute, after: 20 * time.Second},
		{name: "explicit refresh still at most 24h", tokens: Tokens{RefreshSeconds: 30 * 3600}, lifetime: 48 * time.Hour, after: 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tokens.RefreshAt(issued, issued.Add(tt.lifetime)); !got.Equal(issued.Add(tt.after)) {
				t.Errorf("RefreshAt = %s after issue, want %s", got.Sub(issued), tt.after)
			}
		})
	}
}

func TestTokensValidate(t *testing.T) {
	tests := []struct {
		tokens Tokens
		ok     bool
	}{
		{tokens: Tokens{}, ok: true},
		{tokens: Tokens{ExpirationSeconds: 600, RefreshSeconds: 20}, ok: true},
		{tokens: Tokens{ExpirationSeconds: 86400}, ok: true},
		{tokens: Tokens{ExpirationSeconds: 599}},
		{tokens: Tokens{ExpirationSeconds: 86401}},
		{tokens: Tokens{RefreshSeconds: 3600}},
		{tokens: Tokens{ExpirationSeconds: 600, RefreshSeconds: 600}},
		{tokens: Tokens{RefreshSeconds: -1}},
	}
	for _, tt := range tests {
		if err := tt.tokens.Validate(); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok %v", tt.tokens, err, tt.ok)
		}
	}
}
