package notify

import (
	"strings"
	"testing"
)

func TestRedactCredentials(t *testing.T) {
	const secret = "s3cr3tT0ken"
	for _, tc := range []struct{ name, in, want string }{
		{"https userinfo", "fetching https://bot:" + secret + "@git.example.com/org/tenants.git: 401",
			"fetching https://[redacted]@git.example.com/org/tenants.git: 401"},
		{"https token as user", "cloning https://" + secret + "@github.com/org/t.git",
			"cloning https://[redacted]@github.com/org/t.git"},
		{"ssh url", "ssh://deploy:" + secret + "@git.example.com:2222/org/t.git",
			"ssh://[redacted]@git.example.com:2222/org/t.git"},
		{"scp with token", "fetch deploy:" + secret + "@git.example.com:org/tenants.git failed",
			"fetch [redacted]@git.example.com:org/tenants.git failed"},
		{"scp at start", "x-access-token:" + secret + "@github.com:org/t.git",
			"[redacted]@github.com:org/t.git"},
		{"scp quoted", `repo "u:` + secret + `@h.example:o/r" unreachable`,
			`repo "[redacted]@h.example:o/r" unreachable`},
		{"two addresses", "a:" + secret + "@h1:p and https://u:" + secret + "@h2/p",
			"[redacted]@h1:p and https://[redacted]@h2/p"},
		{"plain scp kept", "git@github.com:org/tenants.git", "git@github.com:org/tenants.git"},
		{"no credentials", "tenant team-a: applied 3 objects", "tenant team-a: applied 3 objects"},
		{"time is not userinfo", "at 12:30:01 on main@sha1:abc", "at 12:30:01 on main@sha1:abc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactCredentials(tc.in)
			if got != tc.want {
				t.Fatalf("RedactCredentials(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			if strings.Contains(got, secret) {
				t.Fatalf("%q still holds the secret", got)
			}
		})
	}
}

// TestSanitizeRedactsRepoCredentials: what a chat provider sees carries no repo
// credential, in the repo URL, the message or the commit message.
func TestSanitizeRedactsRepoCredentials(t *testing.T) {
	const secret = "glpat-abcdef123456"
	for _, repo := range []string{
		"deploy:" + secret + "@gitlab.example.com:platform/tenants.git",
		"https://deploy:" + secret + "@gitlab.example.com/platform/tenants.git",
		"ssh://deploy:" + secret + "@gitlab.example.com/platform/tenants.git",
	} {
		e := Sanitize(Event{Kind: KindFailure, RepoURL: repo, Message: "fetching " + repo + ": timeout",
			CommitMessage: "move to " + repo, Revision: "main@sha1:0123456789abcdef0123456789abcdef01234567"})
		for field, v := range map[string]string{"repoURL": e.RepoURL, "message": e.Message, "commit": e.CommitMessage,
			"link": CommitURL(e.RepoURL, e.Revision)} {
			if strings.Contains(v, secret) || strings.Contains(v, "deploy") {
				t.Errorf("%s: %s = %q", repo, field, v)
			}
		}
		if !strings.Contains(CommitURL(e.RepoURL, e.Revision), "gitlab.example.com/platform/tenants/-/commit/") {
			t.Errorf("%s: commit link %q", repo, CommitURL(e.RepoURL, e.Revision))
		}
	}
}
