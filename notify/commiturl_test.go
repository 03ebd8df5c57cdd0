package notify

import "testing"

func TestCommitURL(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		repo, commit, want string
	}{
		{"https://github.com/acme/tenants.git", sha, "https://github.com/acme/tenants/commit/" + sha},
		{"https://github.com/acme/tenants", "main@sha1:" + sha, "https://github.com/acme/tenants/commit/" + sha},
		{"https://x-access-token:ghs_SECRET@github.com/acme/tenants.git", "sha1:" + sha, "https://github.com/acme/tenants/commit/" + sha},
		{"git@github.com:acme/tenants.git", sha, "https://github.com/acme/tenants/commit/" + sha},
		{"ssh://git@github.com/acme/tenants.git", sha, "https://github.com/acme/tenants/commit/" + sha},
		{"ssh://git@github.example.com:2222/acme/tenants.git", sha, "https://github.example.com/acme/tenants/commit/" + sha},
		{"https://github.com/acme/tenants/", "v1.2.0@sha1:" + sha, "https://github.com/acme/tenants/commit/" + sha},
		{"https://gitlab.com/acme/platform/tenants.git", sha, "https://gitlab.com/acme/platform/tenants/-/commit/" + sha},
		{"git@gitlab.example.com:acme/tenants.git", sha, "https://gitlab.example.com/acme/tenants/-/commit/" + sha},
		{"https://oauth2:glpat-SECRET@gitlab.com/acme/tenants.git", sha, "https://gitlab.com/acme/tenants/-/commit/" + sha},
		{"https://bitbucket.org/acme/tenants.git", sha, "https://bitbucket.org/acme/tenants/commits/" + sha},
		{"git@bitbucket.org:acme/tenants.git", sha, "https://bitbucket.org/acme/tenants/commits/" + sha},
		{"https://bitbucket.example.com/scm/plat/tenants.git", sha, "https://bitbucket.example.com/projects/PLAT/repos/tenants/commits/" + sha},
		{"ssh://git@bitbucket.example.com:7999/plat/tenants.git", sha, "https://bitbucket.example.com/projects/PLAT/repos/tenants/commits/" + sha},
		{"https://bitbucket.example.com/scm/~ada/tenants.git", sha, "https://bitbucket.example.com/users/ada/repos/tenants/commits/" + sha},
		{"https://gitea.example.com:3000/acme/tenants.git", sha, "https://gitea.example.com:3000/acme/tenants/commit/" + sha},
		{"http://gitea.local/acme/tenants.git", sha, "http://gitea.local/acme/tenants/commit/" + sha},
		{"https://codeberg.org/acme/tenants.git", sha, "https://codeberg.org/acme/tenants/commit/" + sha},
		{"git@forgejo.example.com:acme/tenants.git", sha, "https://forgejo.example.com/acme/tenants/commit/" + sha},
		{"https://acme@dev.azure.com/acme/platform/_git/tenants", sha, "https://dev.azure.com/acme/platform/_git/tenants/commit/" + sha},
		{"git@ssh.dev.azure.com:v3/acme/platform/tenants", sha, "https://dev.azure.com/acme/platform/_git/tenants/commit/" + sha},
		{"https://github.com/acme/tenants.git", "ABCDEF0", "https://github.com/acme/tenants/commit/abcdef0"},
		// Unknown: host, commit or form.
		{"https://git.example.com/acme/tenants.git", sha, ""},
		{"https://github.com/acme/tenants.git", "main", ""},
		{"https://github.com/acme/tenants.git", "", ""},
		{"https://github.com/acme/tenants.git", "sha1:xyz", ""},
		{"https://github.com/tenants.git", sha, ""},
		{"file:///srv/git/tenants.git", sha, ""},
		{"/srv/git/tenants.git", sha, ""},
		{"", sha, ""},
		{"https://github.com/acme/../tenants", sha, ""},
		{"https://[::1", sha, ""},
	}
	for _, tt := range tests {
		got := CommitURL(tt.repo, tt.commit)
		if got != tt.want {
			t.Errorf("CommitURL(%q, %q) = %q, want %q", tt.repo, tt.commit, got, tt.want)
		}
		assertNoSecrets(t, "commit URL", got, "SECRET", "x-access-token", "oauth2", "acme@")
	}
}

func TestSafeRepoURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://user:SECRET@github.com/acme/tenants.git", "https://github.com/acme/tenants.git"},
		{"https://github.com/acme/tenants.git?private_token=SECRET#x", "https://github.com/acme/tenants.git"},
		{"ssh://git:SECRET@example.com:22/acme/tenants.git", "ssh://example.com:22/acme/tenants.git"},
		{"git@github.com:acme/tenants.git", "git@github.com:acme/tenants.git"},
		{"deploy@github.com:acme/tenants.git", "github.com:acme/tenants.git"},
		{"/srv/git/tenants", "/srv/git/tenants"},
		{"https://[::1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := safeRepoURL(tt.in); got != tt.want {
			t.Errorf("safeRepoURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
