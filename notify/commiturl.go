package notify

import (
	"net/url"
	"regexp"
	"strings"
)

// scpLike is "user@host:path", the scp-style form git accepts for SSH.
// scpLike is [user[:password]@]host:path; a user other than "git" is never shown.
var scpLike = regexp.MustCompile(`^(?:([^@/]+)@)?([A-Za-z0-9.-]+):(.+)$`)

var hexHash = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

// CommitURL links to commit in the web UI of the repo at repoURL, or returns "" when the
// host is not recognized or commit holds no hash. repoURL may be https (with or without
// credentials, which are never copied), ssh:// or scp-style ("git@github.com:org/repo.git");
// commit may be a hash or a revision like "main@sha1:<hash>".
//
// Recognized hosts, by name: GitHub (also Enterprise hosts named "github"), GitLab
// (".../-/commit/<sha>"), Bitbucket Cloud (".../commits/<sha>") and Server
// ("/projects/P/repos/r/commits/<sha>"), Gitea, Forgejo, Gogs and Codeberg, and Azure DevOps.
func CommitURL(repoURL, commit string) string {
	sha := commitHash(commit)
	if sha == "" {
		return ""
	}
	scheme, host, p, ok := splitRepoURL(repoURL)
	if !ok {
		return ""
	}
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(strings.TrimSuffix(p, ".git"), "/")
	segs := strings.Split(p, "/")
	if len(segs) < 2 {
		return ""
	}
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return ""
		}
	}
	name := strings.ToLower(host)
	if i := strings.LastIndex(name, ":"); i >= 0 {
		name = name[:i]
	}
	base := scheme + "://" + host + "/"
	switch {
	case name == "dev.azure.com" || name == "ssh.dev.azure.com" || strings.HasSuffix(name, ".visualstudio.com"):
		return azureCommitURL(scheme, host, segs, sha)
	case strings.Contains(name, "bitbucket"):
		return bitbucketCommitURL(base, name, segs, sha)
	case strings.Contains(name, "gitlab"):
		return base + p + "/-/commit/" + sha
	case strings.Contains(name, "github"), strings.Contains(name, "gitea"), strings.Contains(name, "forgejo"),
		strings.Contains(name, "gogs"), strings.Contains(name, "codeberg"):
		return base + p + "/commit/" + sha
	}
	return ""
}

func bitbucketCommitURL(base, host string, segs []string, sha string) string {
	if host == "bitbucket.org" {
		if len(segs) != 2 {
			return ""
		}
		return base + segs[0] + "/" + segs[1] + "/commits/" + sha
	}
	// Bitbucket Server / Data Center: https://host[/context]/scm/PROJ/repo.git, ssh://host:7999/proj/repo.git.
	prefix := ""
	for i, s := range segs {
		if s == "scm" && len(segs) == i+3 {
			prefix = strings.Join(segs[:i], "/")
			segs = segs[i+1:]
			break
		}
	}
	if len(segs) != 2 {
		return ""
	}
	if prefix != "" {
		prefix += "/"
	}
	if user, personal := strings.CutPrefix(segs[0], "~"); personal {
		return base + prefix + "users/" + user + "/repos/" + segs[1] + "/commits/" + sha
	}
	return base + prefix + "projects/" + strings.ToUpper(segs[0]) + "/repos/" + segs[1] + "/commits/" + sha
}

func azureCommitURL(scheme, host string, segs []string, sha string) string {
	// git@ssh.dev.azure.com:v3/org/project/repo
	if strings.EqualFold(host, "ssh.dev.azure.com") {
		if len(segs) != 4 || segs[0] != "v3" {
			return ""
		}
		return "https://dev.azure.com/" + segs[1] + "/" + segs[2] + "/_git/" + segs[3] + "/commit/" + sha
	}
	// https://dev.azure.com/org/project/_git/repo, https://org.visualstudio.com/project/_git/repo
	if len(segs) < 3 || segs[len(segs)-2] != "_git" {
		return ""
	}
	return scheme + "://" + host + "/" + strings.Join(segs, "/") + "/commit/" + sha
}

// splitRepoURL returns the web scheme, host (with port for http(s)) and path of a repo URL.
func splitRepoURL(raw string) (scheme, host, path string, ok bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", "", false
	}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return "", "", "", false
		}
		switch strings.ToLower(u.Scheme) {
		case "https", "http":
			return strings.ToLower(u.Scheme), u.Host, u.EscapedPath(), true
		case "ssh", "git", "git+ssh", "ssh+git":
			// The SSH port says nothing about the web UI's port.
			return "https", u.Hostname(), u.EscapedPath(), true
		}
		return "", "", "", false
	}
	m := scpLike.FindStringSubmatch(raw)
	if m == nil {
		return "", "", "", false
	}
	return "https", m[2], (&url.URL{Path: m[3]}).EscapedPath(), true
}

// commitHash extracts the hex hash from "<hash>", "sha1:<hash>" or "main@sha1:<hash>".
func commitHash(rev string) string {
	rev = strings.TrimSpace(rev)
	if i := strings.LastIndex(rev, ":"); i >= 0 {
		rev = rev[i+1:]
	}
	if !hexHash.MatchString(rev) {
		return ""
	}
	return strings.ToLower(rev)
}

// safeRepoURL drops credentials, query and fragment from a repo URL, or the whole URL
// when it cannot be parsed. A scp-style user name other than "git" is dropped too.
func safeRepoURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return ""
		}
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		return u.String()
	}
	if m := scpLike.FindStringSubmatch(raw); m != nil {
		if m[1] == "git" {
			return "git@" + m[2] + ":" + m[3]
		}
		return m[2] + ":" + m[3]
	}
	if strings.Contains(raw, "@") {
		return ""
	}
	return raw
}
