package source

import (
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

var mainRevision = regexp.MustCompile(`^main@sha1:[0-9a-f]{40}$`)

func TestFetchFileURLClonesBranch(t *testing.T) {
	repo := newTestRepo(t)
	h := repo.commit("add team-a\n\nbody", map[string]string{"tenants/team-a.yaml": "name: team-a\n"})
	work := t.TempDir()
	s := newSource(t, Options{URL: repo.url(), Dir: work})

	a, changed := fetch(t, s)
	if !changed {
		t.Error("first fetch: changed = false, want true")
	}
	if !mainRevision.MatchString(a.Revision) {
		t.Errorf("revision %q does not match %s", a.Revision, mainRevision)
	}
	if a.Revision != "main@sha1:"+h.String() || a.Commit != h.String() {
		t.Errorf("revision %q commit %q, want commit %s", a.Revision, a.Commit, h)
	}
	if got := readFile(t, a.Path, "tenants/team-a.yaml"); got != "name: team-a\n" {
		t.Errorf("file content %q", got)
	}
	assertNoFile(t, a.Path, ".git")
	if a.Author != "Tess Tenant <tess@example.com>" || a.Message != "add team-a\n\nbody" || a.Time.IsZero() {
		t.Errorf("metadata: author %q message %q time %v", a.Author, a.Message, a.Time)
	}
	if filepath.Dir(a.Path) != work {
		t.Errorf("path %s not inside work dir %s", a.Path, work)
	}
	if got := s.LastGood(); got == nil || *got != *a {
		t.Errorf("LastGood = %+v, want %+v", got, a)
	}
}

func TestFetchLocalPath(t *testing.T) {
	repo := newTestRepo(t)
	h := repo.commit("init", map[string]string{"a.yaml": "a"})
	s := newSource(t, Options{URL: repo.dir})
	a, _ := fetch(t, s)
	if a.Commit != h.String() {
		t.Fatalf("commit %s, want %s", a.Commit, h)
	}
}

func TestFetchUnchangedSkipsClone(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("init", map[string]string{"a.yaml": "a"})
	work := t.TempDir()
	s := newSource(t, Options{URL: repo.url(), Dir: work})
	first, _ := fetch(t, s)
	before := listDir(t, work)
	stat, err := os.Stat(first.Path)
	if err != nil {
		t.Fatal(err)
	}

	second, changed := fetch(t, s)
	if changed {
		t.Error("second fetch: changed = true, want false")
	}
	if *second != *first {
		t.Errorf("second artifact %+v, want %+v", second, first)
	}
	if got := s.lsRemotes.Load(); got != 1 {
		t.Errorf("ls-remote count = %d, want 1", got)
	}
	if got := s.clones.Load(); got != 1 {
		t.Errorf("clone count = %d, want 1 (second fetch must not clone)", got)
	}
	if after := listDir(t, work); !slices.Equal(before, after) {
		t.Errorf("work dir changed: %v → %v", before, after)
	}
	if stat2, err := os.Stat(first.Path); err != nil || !os.SameFile(stat, stat2) || !stat.ModTime().Equal(stat2.ModTime()) {
		t.Errorf("checkout dir was replaced or modified")
	}
}

func TestFetchNewCommit(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "a1", "gone.yaml": "x"})
	work := t.TempDir()
	s := newSource(t, Options{URL: repo.url(), Dir: work})
	first, _ := fetch(t, s)

	h2 := repo.commit("two", map[string]string{"a.yaml": "a2", "b.yaml": "b", "gone.yaml": ""})
	second, changed := fetch(t, s)
	if !changed || second.Commit != h2.String() || second.Revision != "main@sha1:"+h2.String() {
		t.Fatalf("second fetch changed=%v artifact %+v, want commit %s", changed, second, h2)
	}
	if readFile(t, second.Path, "a.yaml") != "a2" || readFile(t, second.Path, "b.yaml") != "b" {
		t.Error("new files not visible")
	}
	assertNoFile(t, second.Path, "gone.yaml")
	if readFile(t, first.Path, "a.yaml") != "a1" {
		t.Error("previous checkout must stay intact for one change")
	}

	repo.commit("three", map[string]string{"c.yaml": "c"})
	third, changed := fetch(t, s)
	if !changed || third.Commit == second.Commit {
		t.Fatalf("third fetch changed=%v commit %s", changed, third.Commit)
	}
	if dirExists(first.Path) {
		t.Error("checkout two changes old should be pruned")
	}
	if !dirExists(second.Path) {
		t.Error("previous checkout should be kept")
	}
	for _, name := range listDir(t, work) {
		if strings.HasPrefix(name, tmpPrefix) {
			t.Errorf("leftover fetch dir %s", name)
		}
	}
}

func TestFetchTracksOnlyItsBranch(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("init", map[string]string{"a.yaml": "main"})
	repo.checkout("release", true)
	hr := repo.commit("release", map[string]string{"a.yaml": "release"})
	repo.checkout("main", false)

	s := newSource(t, Options{URL: repo.url(), Ref: Ref{Branch: "release"}})
	a, _ := fetch(t, s)
	if a.Revision != "release@sha1:"+hr.String() || readFile(t, a.Path, "a.yaml") != "release" {
		t.Fatalf("artifact %+v, want release branch at %s", a, hr)
	}
	repo.commit("main moves", map[string]string{"a.yaml": "main2"})
	if _, changed := fetch(t, s); changed {
		t.Error("a commit on main must not change the release artifact")
	}
}

func TestFetchTag(t *testing.T) {
	for _, annotated := range []bool{false, true} {
		t.Run(map[bool]string{false: "lightweight", true: "annotated"}[annotated], func(t *testing.T) {
			repo := newTestRepo(t)
			h1 := repo.commit("one", map[string]string{"a.yaml": "v1"})
			repo.tag("v1.0.0", h1, annotated)
			repo.commit("two", map[string]string{"a.yaml": "v2"})

			s := newSource(t, Options{URL: repo.url(), Ref: Ref{Tag: "v1.0.0"}})
			a, _ := fetch(t, s)
			if want := "v1.0.0@sha1:" + h1.String(); a.Revision != want || a.Commit != h1.String() {
				t.Errorf("revision %q commit %q, want %q", a.Revision, a.Commit, want)
			}
			if got := readFile(t, a.Path, "a.yaml"); got != "v1" {
				t.Errorf("content %q, want v1", got)
			}
			if _, changed := fetch(t, s); changed {
				t.Error("unchanged tag reported as changed")
			}
			if got := s.clones.Load(); got != 1 {
				t.Errorf("clones = %d, want 1", got)
			}
		})
	}
}

func TestFetchPinnedCommit(t *testing.T) {
	repo := newTestRepo(t)
	h1 := repo.commit("one", map[string]string{"a.yaml": "one"})
	repo.commit("two", map[string]string{"a.yaml": "two"})

	s := newSource(t, Options{URL: repo.url(), Ref: Ref{Commit: h1.String()}})
	a, changed := fetch(t, s)
	if !changed || a.Revision != "sha1:"+h1.String() || readFile(t, a.Path, "a.yaml") != "one" {
		t.Fatalf("changed=%v artifact %+v", changed, a)
	}
	if !regexp.MustCompile(`^sha1:[0-9a-f]{40}$`).MatchString(a.Revision) {
		t.Errorf("revision %q", a.Revision)
	}
	repo.commit("three", map[string]string{"a.yaml": "three"})
	if _, changed := fetch(t, s); changed {
		t.Error("pinned commit reported as changed")
	}
	if got := s.lsRemotes.Load(); got != 0 {
		t.Errorf("pinned commit polled the remote %d times", got)
	}
}

func TestFetchPinnedCommitMissing(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "one"})
	s := newSource(t, Options{URL: repo.url(), Ref: Ref{Commit: strings.Repeat("ab", 20)}})
	if a, _, err := s.Fetch(context.Background()); err == nil {
		t.Fatalf("Fetch of a missing commit succeeded: %+v", a)
	}
	if s.LastGood() != nil {
		t.Error("LastGood set after a failed first fetch")
	}
}

func TestFetchMissingBranch(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "one"})
	s := newSource(t, Options{URL: repo.url(), Ref: Ref{Branch: "nope"}})
	if _, _, err := s.Fetch(context.Background()); err == nil {
		t.Fatal("Fetch of a missing branch succeeded")
	}
}

func TestFetchRemoteGoneKeepsLastGood(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "one"})
	s := newSource(t, Options{URL: repo.url()})
	good, _ := fetch(t, s)

	moved := repo.dir + ".moved"
	if err := os.Rename(repo.dir, moved); err != nil {
		t.Fatal(err)
	}
	a, changed, err := s.Fetch(context.Background())
	if err == nil || changed || a != nil {
		t.Fatalf("Fetch with remote gone: artifact %+v changed %v err %v", a, changed, err)
	}
	last := s.LastGood()
	if last == nil || *last != *good {
		t.Fatalf("LastGood = %+v, want %+v", last, good)
	}
	if readFile(t, last.Path, "a.yaml") != "one" {
		t.Error("last good checkout damaged")
	}

	if err := os.Rename(moved, repo.dir); err != nil {
		t.Fatal(err)
	}
	h2 := repo.commit("two", map[string]string{"a.yaml": "two"})
	if a, changed := fetch(t, s); !changed || a.Commit != h2.String() {
		t.Fatalf("recovery fetch: changed=%v commit %s, want %s", changed, a.Commit, h2)
	}
}

// TestFetchCloneFailureKeepsLastGood makes the ls-remote succeed and the
// clone fail by removing the new commit's object from the remote.
func TestFetchCloneFailureKeepsLastGood(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "one"})
	work := t.TempDir()
	s := newSource(t, Options{URL: repo.url(), Dir: work})
	good, _ := fetch(t, s)

	h2 := repo.commit("two", map[string]string{"a.yaml": "two"})
	obj := filepath.Join(repo.dir, ".git", "objects", h2.String()[:2], h2.String()[2:])
	if err := os.Remove(obj); err != nil {
		t.Fatalf("remove commit object: %v", err)
	}
	if _, _, err := s.Fetch(context.Background()); err == nil {
		t.Fatal("Fetch of a corrupt remote succeeded")
	}
	if got := s.clones.Load(); got != 2 {
		t.Fatalf("clones = %d, want 2 (the failure must come from the clone)", got)
	}
	if last := s.LastGood(); last == nil || *last != *good || readFile(t, last.Path, "a.yaml") != "one" {
		t.Fatalf("LastGood = %+v, want intact %+v", last, good)
	}
	if names := listDir(t, work); !slices.Equal(names, []string{filepath.Base(good.Path)}) {
		t.Errorf("work dir holds %v, want only the last good checkout", names)
	}
}

func TestFetchRecreatesDeletedCheckout(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "one"})
	s := newSource(t, Options{URL: repo.url()})
	first, _ := fetch(t, s)
	if err := os.RemoveAll(first.Path); err != nil {
		t.Fatal(err)
	}
	again, changed := fetch(t, s)
	if changed || again.Commit != first.Commit || readFile(t, again.Path, "a.yaml") != "one" {
		t.Fatalf("changed=%v artifact %+v", changed, again)
	}
}

func TestFetchTimeout(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "one"})
	s := newSource(t, Options{URL: repo.url()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Fetch(ctx); err == nil {
		t.Fatal("Fetch with a cancelled context succeeded")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"two refs", Options{URL: "file:///x", Ref: Ref{Branch: "a", Tag: "b"}}, ErrInvalidRef},
		{"short commit", Options{URL: "file:///x", Ref: Ref{Commit: "abc123"}}, ErrInvalidRef},
		{"bad branch", Options{URL: "file:///x", Ref: Ref{Branch: "a..b"}}, ErrInvalidRef},
		{"git scheme", Options{URL: "git://example.com/x"}, ErrUnsupportedURL},
		{"ftp scheme", Options{URL: "ftp://example.com/x"}, ErrUnsupportedURL},
		{"ssh without key", Options{URL: "git@example.com:org/repo.git"}, ErrNoSSHKey},
		{"token and password", Options{URL: "https://example.com/x", Auth: Auth{Password: "p", BearerToken: "t"}}, ErrAmbiguousAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRefRevision(t *testing.T) {
	const c = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		ref  Ref
		want string
	}{
		{Ref{}, "main@sha1:" + c},
		{Ref{Branch: "feature/x"}, "feature/x@sha1:" + c},
		{Ref{Tag: "v1.0.0"}, "v1.0.0@sha1:" + c},
		{Ref{Commit: c}, "sha1:" + c},
	}
	for _, tt := range tests {
		ref, err := tt.ref.normalize()
		if err != nil {
			t.Fatalf("normalize %+v: %v", tt.ref, err)
		}
		if got := ref.revision(c); got != tt.want {
			t.Errorf("revision(%+v) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestPoll(t *testing.T) {
	repo := newTestRepo(t)
	h1 := repo.commit("one", map[string]string{"a.yaml": "one"})
	s := newSource(t, Options{URL: repo.url()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	changes := make(chan *Artifact, 4)
	errs := make(chan error, 4)
	trigger := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Poll(ctx, time.Hour, trigger, func(a *Artifact) { changes <- a }, func(err error) { errs <- err })
	}()

	if a := waitFor(t, changes); a.Commit != h1.String() {
		t.Fatalf("first change %s, want %s", a.Commit, h1)
	}
	h2 := repo.commit("two", map[string]string{"a.yaml": "two"})
	trigger <- struct{}{}
	if a := waitFor(t, changes); a.Commit != h2.String() {
		t.Fatalf("triggered change %s, want %s", a.Commit, h2)
	}
	if err := os.RemoveAll(repo.dir); err != nil {
		t.Fatal(err)
	}
	trigger <- struct{}{}
	if err := waitFor(t, errs); err == nil {
		t.Fatal("nil error reported")
	}
	cancel()
	waitFor(t, done)
}

func TestPollInterval(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "one"})
	s := newSource(t, Options{URL: repo.url()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := make(chan *Artifact, 4)
	go s.Poll(ctx, 20*time.Millisecond, nil, func(a *Artifact) { changes <- a }, nil)
	waitFor(t, changes)
	h2 := repo.commit("two", map[string]string{"a.yaml": "two"})
	if a := waitFor(t, changes); a.Commit != h2.String() {
		t.Fatalf("interval change %s, want %s", a.Commit, h2)
	}
}

func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatal("timed out")
	}
	var zero T
	return zero
}

func TestFetchSymlinks(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("init", map[string]string{"tenants/a.yaml": "a"})
	repo.symlink("current", "tenants")
	h := repo.symlink("alias.yaml", "current/a.yaml")
	s := newSource(t, Options{URL: repo.url()})
	a, _ := fetch(t, s)
	if a.Commit != h.String() || readFile(t, a.Path, "alias.yaml") != "a" {
		t.Fatalf("in-repo symlinks: artifact %+v", a)
	}

	for name, target := range map[string]string{
		"absolute":        "/etc/hostname",
		"parent":          "../../etc/hostname",
		"via other link":  "current/../../x",
		"dangling":        "does-not-exist",
		"object store":    "../git/config",
		"dot then parent": "dot/../outside",
	} {
		t.Run(name, func(t *testing.T) {
			repo := newTestRepo(t)
			repo.commit("init", map[string]string{"a.yaml": "a"})
			s := newSource(t, Options{URL: repo.url()})
			good, _ := fetch(t, s)
			repo.symlink("dot", ".")
			repo.symlink("current", ".")
			repo.symlink("evil", target)
			_, _, err := s.Fetch(t.Context())
			if !errors.Is(err, ErrUnsafeSymlink) {
				t.Fatalf("Fetch error %v, want ErrUnsafeSymlink", err)
			}
			if last := s.LastGood(); last == nil || *last != *good {
				t.Fatalf("LastGood = %+v, want %+v", last, good)
			}
		})
	}
}

// TestFetchLinksUnchangedFiles: a new commit's checkout shares the inodes of the files
// whose content did not change with the last checkout, writes the changed ones anew, and
// still writes a file the last checkout lost.
func TestFetchLinksUnchangedFiles(t *testing.T) {
	repo := newTestRepo(t)
	repo.commit("one", map[string]string{"a.yaml": "a1", "tenants/b.yaml": "b", "tenants/lost.yaml": "l"})
	s := newSource(t, Options{URL: repo.url(), Dir: t.TempDir()})
	first, _ := fetch(t, s)
	if err := os.Remove(filepath.Join(first.Path, "tenants", "lost.yaml")); err != nil {
		t.Fatal(err)
	}
	repo.commit("two", map[string]string{"a.yaml": "a2", "tenants/c.yaml": "b"})
	second, _ := fetch(t, s)
	tests := []struct {
		name, content string
		linked        bool
	}{
		{"a.yaml", "a2", false},
		{"tenants/b.yaml", "b", true},
		{"tenants/c.yaml", "b", false}, // same blob, new path: written
		{"tenants/lost.yaml", "l", false},
	}
	for _, tt := range tests {
		if got := readFile(t, second.Path, tt.name); got != tt.content {
			t.Errorf("%s = %q, want %q", tt.name, got, tt.content)
		}
		if linked := sameFile(t, first.Path, second.Path, tt.name); linked != tt.linked {
			t.Errorf("%s linked from the last checkout: %v, want %v", tt.name, linked, tt.linked)
		}
	}
	if readFile(t, first.Path, "a.yaml") != "a1" {
		t.Error("the last checkout changed")
	}
}

// sameFile reports whether name is the same inode in both checkouts (false when either
// lacks it).
func sameFile(t *testing.T, dirA, dirB, name string) bool {
	t.Helper()
	a, errA := os.Stat(filepath.Join(dirA, filepath.FromSlash(name)))
	b, errB := os.Stat(filepath.Join(dirB, filepath.FromSlash(name)))
	return errA == nil && errB == nil && os.SameFile(a, b)
}

// TestFetchKeepsObjectStore: after the first clone, a fetch of a new commit brings only the
// objects the kept store lacks (one small pack beside the first); a history rewritten by a
// force push still fetches; a store that lost its objects is cloned afresh.
func TestFetchKeepsObjectStore(t *testing.T) {
	repo := newTestRepo(t)
	files := map[string]string{}
	for i := range 200 {
		var b strings.Builder
		for j := range 16 { // 2 KiB that do not compress
			fmt.Fprintf(&b, "%x\n", sha512.Sum512([]byte(fmt.Sprint(i, j))))
		}
		files[fmt.Sprintf("tenants/t%03d.yaml", i)] = b.String()
	}
	repo.commit("200 tenants", files)
	work := t.TempDir()
	store := filepath.Join(work, storeName)
	s := newSource(t, Options{URL: repo.url(), Dir: work})
	fetch(t, s)
	first := packSizes(t, store)
	if len(first) != 1 {
		t.Fatalf("packs after the first fetch: %v, want 1", first)
	}

	repo.commit("one tenant changes", map[string]string{"tenants/t007.yaml": "changed\n"})
	second, _ := fetch(t, s)
	if readFile(t, second.Path, "tenants/t007.yaml") != "changed\n" || readFile(t, second.Path, "tenants/t008.yaml") != files["tenants/t008.yaml"] {
		t.Fatal("the second checkout does not hold the second commit")
	}
	sizes := packSizes(t, store)
	if len(sizes) != 2 {
		t.Fatalf("packs after the second fetch: %v, want the first and one more", sizes)
	}
	if added := sizes[1]; sizes[0] != first[0] || added*10 > first[0] {
		t.Fatalf("the second fetch brought a pack of %d bytes against the clone's %d: not only what the store lacked", added, first[0])
	}

	repo.checkout("rewritten", true)
	repo.commit("unrelated history", map[string]string{"tenants/t007.yaml": "rewritten\n"})
	forcePush(t, repo, "rewritten", "main")
	third, changed := fetch(t, s)
	if !changed || readFile(t, third.Path, "tenants/t007.yaml") != "rewritten\n" {
		t.Fatal("a force-pushed main was not fetched")
	}

	if err := os.RemoveAll(filepath.Join(store, "objects")); err != nil {
		t.Fatal(err)
	}
	repo.checkout("main", false)
	repo.commit("after the store broke", map[string]string{"tenants/t009.yaml": "after\n"})
	fourth, changed := fetch(t, s)
	if !changed || readFile(t, fourth.Path, "tenants/t009.yaml") != "after\n" || len(packSizes(t, store)) != 1 {
		t.Fatalf("a broken store was not cloned afresh: changed %v, packs %v", changed, packSizes(t, store))
	}
}

// packSizes are the sizes of the pack files in the store at dir, largest first.
func packSizes(t *testing.T, dir string) []int64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "objects", "pack"))
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pack") {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, info.Size())
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// forcePush points branch to at the head of branch from, as a force push would.
func forcePush(t *testing.T, r *testRepo, from, to string) {
	t.Helper()
	head, err := r.repo.Reference(plumbing.NewBranchReferenceName(from), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(to), head.Hash())); err != nil {
		t.Fatal(err)
	}
}

// TestFetchFollowsURLChange: an agent restarted on another repo URL with the same work dir
// fetches from the new URL, not from the one its kept store was cloned from.
func TestFetchFollowsURLChange(t *testing.T) {
	a, b := newTestRepo(t), newTestRepo(t)
	a.commit("a", map[string]string{"who.yaml": "a"})
	b.commit("b", map[string]string{"who.yaml": "b"})
	work := t.TempDir()
	first, _ := fetch(t, newSource(t, Options{URL: a.url(), Dir: work}))
	fromA := readFile(t, first.Path, "who.yaml")
	second, _ := fetch(t, newSource(t, Options{URL: b.url(), Dir: work})) // prunes the first checkout
	if fromB := readFile(t, second.Path, "who.yaml"); fromA != "a" || fromB != "b" {
		t.Fatalf("fetched %q then %q, want a then b", fromA, fromB)
	}
}
