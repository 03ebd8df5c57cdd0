package source

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

var hexCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

// testRepo is a real repository built with go-git for a test.
type testRepo struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	now  time.Time
}

func newTestRepo(t *testing.T) *testRepo {
	t.Helper()
	return newTestRepoAt(t, filepath.Join(t.TempDir(), "tenants"))
}

func newTestRepoAt(t *testing.T, dir string) *testRepo {
	t.Helper()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		t.Fatalf("init test repo: %v", err)
	}
	return &testRepo{t: t, dir: dir, repo: repo, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (r *testRepo) url() string { return "file://" + r.dir }

func (r *testRepo) sig() *object.Signature {
	r.now = r.now.Add(time.Minute)
	return &object.Signature{Name: "Tess Tenant", Email: "tess@example.com", When: r.now}
}

// commit writes files (path → content; empty content deletes) on the
// current branch and commits them.
func (r *testRepo) commit(msg string, files map[string]string) plumbing.Hash {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	for name, content := range files {
		path := filepath.Join(r.dir, name)
		if content == "" {
			if _, err := wt.Remove(name); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			r.t.Fatal(err)
		}
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: r.sig()})
	if err != nil {
		r.t.Fatalf("commit: %v", err)
	}
	return h
}

// symlink commits a symbolic link name → target.
func (r *testRepo) symlink(name, target string) plumbing.Hash {
	r.t.Helper()
	if err := os.Symlink(target, filepath.Join(r.dir, name)); err != nil {
		r.t.Fatal(err)
	}
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := wt.Add(name); err != nil {
		r.t.Fatal(err)
	}
	h, err := wt.Commit("link "+name, &git.CommitOptions{Author: r.sig()})
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

// checkout switches the worktree to branch, creating it at HEAD if asked.
func (r *testRepo) checkout(branch string, create bool) {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	err = wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch), Create: create})
	if err != nil {
		r.t.Fatalf("checkout %s: %v", branch, err)
	}
}

// tag creates a lightweight or annotated tag at h.
func (r *testRepo) tag(name string, h plumbing.Hash, annotated bool) {
	r.t.Helper()
	var opts *git.CreateTagOptions
	if annotated {
		opts = &git.CreateTagOptions{Tagger: r.sig(), Message: "release " + name}
	}
	if _, err := r.repo.CreateTag(name, h, opts); err != nil {
		r.t.Fatalf("tag %s: %v", name, err)
	}
}

func newSource(t *testing.T, opts Options) *Source {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func fetch(t *testing.T, s *Source) (*Artifact, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, changed, err := s.Fetch(ctx)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	checkArtifact(t, a)
	return a, changed
}

func checkArtifact(t *testing.T, a *Artifact) {
	t.Helper()
	if a == nil || a.Path == "" || !hexCommit.MatchString(a.Commit) {
		t.Fatalf("bad artifact %+v", a)
	}
	if !dirExists(a.Path) {
		t.Fatalf("artifact path %s does not exist", a.Path)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func assertNoFile(t *testing.T, dir, name string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s should not exist in %s (err=%v)", name, dir, err)
	}
}

// listDir returns the entry names of dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
