package notify

import "regexp"

// Redacted replaces a credential in a message.
const Redacted = "[redacted]"

var (
	// urlUserinfo is the userinfo of a URL: scheme://user[:password]@.
	urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@`)
	// scpUserinfo is a scp-style repo address carrying a password or token:
	// user:TOKEN@host:path (a bare user such as git@host:path names no secret).
	scpUserinfo = regexp.MustCompile(`(^|[\s'"(<\[=,;])[^\s'"(<\[=,;@/:]+:[^\s'"@/]+@([A-Za-z0-9.-]+:)`)
)

// RedactCredentials replaces the credentials of every repo address in s, in URL form
// (https://user:token@host/path) and scp form (user:token@host:path). It is the one
// redaction of repo credentials: chat messages (Sanitize) and the Git source's errors use it.
func RedactCredentials(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "${1}"+Redacted+"@")
	return scpUserinfo.ReplaceAllString(s, "${1}"+Redacted+"@${2}")
}
