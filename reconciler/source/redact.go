package source

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/tenantry/tenantry/notify"
)

// redactor removes known secrets from messages.
type redactor struct {
	secrets []string
}

// newRedactor returns a redactor for the given secrets, also covering their
// URL-escaped forms and the basic-auth header encoding.
func newRedactor(a Auth, urlSecrets ...string) redactor {
	var r redactor
	for _, s := range append([]string{a.Password, a.BearerToken, a.SSHKeyPassphrase}, urlSecrets...) {
		r.add(s)
	}
	if a.Username != "" || a.Password != "" {
		r.add(base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + a.Password)))
	}
	return r
}

func (r *redactor) add(s string) {
	if s == "" {
		return
	}
	_, userinfo, _ := strings.Cut(url.UserPassword("", s).String(), ":")
	r.secrets = append(r.secrets, s, url.QueryEscape(s), url.PathEscape(s), userinfo)
}

// redact replaces secrets and repo credentials (URL userinfo, scp-style user:token@) in msg.
func (r redactor) redact(msg string) string {
	msg = notify.RedactCredentials(msg)
	for _, s := range r.secrets {
		msg = strings.ReplaceAll(msg, s, redacted)
	}
	return msg
}

// errorf formats an error like fmt.Errorf (so %w wraps) and redacts its
// message.
func (r redactor) errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &redactedError{msg: r.redact(err.Error()), causes: causes(err)}
}

// causes returns the errors err wraps directly (and only those: the
// assertion deliberately does not look through the chain).
func causes(err error) []error {
	switch u := any(err).(type) {
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	case interface{ Unwrap() error }:
		if c := u.Unwrap(); c != nil {
			return []error{c}
		}
	}
	return nil
}

// redactedError carries a redacted message; Unwrap still exposes the
// wrapped errors for errors.Is and errors.As.
type redactedError struct {
	msg    string
	causes []error
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.causes }
