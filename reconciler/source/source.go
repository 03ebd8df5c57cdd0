package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds one Fetch when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Options configures a Source.
type Options struct {
	// URL of the tenants repo: https://, http://, ssh://, user@host:path,
	// file:// or a local path.
	URL string
	// Ref to track; the zero Ref tracks DefaultBranch.
	Ref Ref
	// Auth holds the credentials; see AuthFromEnv and AuthFromDir.
	Auth Auth
	// Dir is the work directory holding the checkouts. Empty means a new
	// temporary directory. Source owns the 40-hex-digit, ".fetch-" and
	// ".store" (the objects kept between fetches) entries in it.
	Dir string
	// Timeout bounds a single Fetch; zero means DefaultTimeout.
	Timeout time.Duration
}

// Artifact is one checked out revision of the repo.
type Artifact struct {
	// Revision is Flux style: "main@sha1:<hash>" for a branch,
	// "v1.0.0@sha1:<hash>" for a tag, "sha1:<hash>" for a pinned commit.
	Revision string
	// Commit is the full SHA-1 of the checked out commit.
	Commit string
	// Path is the checkout directory. It holds the files of the commit and
	// no .git directory. It stays intact while the artifact is the last
	// good one and for one change after that.
	Path string
	// Author is "Name <email>" of the commit author.
	Author string
	// Message is the full commit message.
	Message string
	// Time is the committer time.
	Time time.Time
}

// Source fetches one reference of one repo. Its methods are safe for
// concurrent use; fetches are serialized.
type Source struct {
	remote  *remote
	ref     Ref
	dir     string
	timeout time.Duration

	fetchMu sync.Mutex // serializes Fetch
	mu      sync.RWMutex
	last    *Artifact
	files   treeFiles // what last's checkout holds, nil when unknown
	prev    string    // path of the artifact before last, kept for readers

	// counters for tests: remote listings and clones performed
	lsRemotes, clones atomic.Int64
}

// New validates opts and prepares the work directory. It does not touch
// the network.
func New(opts Options) (*Source, error) {
	ref, err := opts.Ref.normalize()
	if err != nil {
		return nil, err
	}
	rem, err := newRemote(opts.URL, opts.Auth)
	if err != nil {
		return nil, err
	}
	dir, err := workDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Source{remote: rem, ref: ref, dir: dir, timeout: timeout}, nil
}

// workDir creates (or makes up) the work directory and returns its
// absolute path.
func workDir(dir string) (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "tenantry-source-")
		if err != nil {
			return "", fmt.Errorf("create work dir: %w", err)
		}
		return d, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("work dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("create work dir: %w", err)
	}
	return abs, nil
}

// LastGood returns the last successfully fetched artifact, or nil before
// the first successful Fetch.
func (s *Source) LastGood() *Artifact {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.last == nil {
		return nil
	}
	a := *s.last
	return &a
}

// Fetch brings the checkout up to date. The first call clones. Later calls
// list the remote references and return the last artifact with
// changed=false when the tracked reference has not moved; otherwise they
// clone the new commit into a fresh directory and switch to it. A pinned
// commit is fetched once. On error Fetch returns a nil artifact, and the
// last good checkout stays as it was.
func (s *Source) Fetch(ctx context.Context) (*Artifact, bool, error) {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	last := s.LastGood()
	if last != nil {
		upToDate, err := s.upToDate(ctx, last)
		if err != nil {
			return nil, false, err
		}
		if upToDate {
			return last, false, nil
		}
	}
	next, files, err := s.fetchNew(ctx)
	if err != nil {
		return nil, false, err
	}
	if last != nil && next.Commit == last.Commit {
		return last, false, nil
	}
	s.promote(next, files)
	return next, true, nil
}

// upToDate reports whether the remote reference still points at last's
// commit and its checkout is still on disk.
func (s *Source) upToDate(ctx context.Context, last *Artifact) (bool, error) {
	if !dirExists(last.Path) {
		return false, nil
	}
	if s.ref.Commit != "" {
		return true, nil
	}
	s.lsRemotes.Add(1)
	hash, err := s.remote.lsRemote(ctx, s.ref)
	if err != nil {
		return false, s.remote.redactor.errorf("ls-remote %s %s: %w", s.remote.display, s.ref, err)
	}
	return hash.String() == last.Commit, nil
}

// lastCheckout is what the last good checkout holds, for the next to link from; nil
// before the first, or when it is gone from disk.
func (s *Source) lastCheckout() *checkout {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.last == nil || s.files == nil || !dirExists(s.last.Path) {
		return nil
	}
	return &checkout{dir: s.last.Path, files: s.files}
}

// promote makes a, whose checkout holds files, the last good artifact and prunes older
// checkouts.
func (s *Source) promote(a *Artifact, files treeFiles) {
	s.mu.Lock()
	if s.last != nil {
		s.prev = s.last.Path
	}
	cp := *a
	s.last, s.files = &cp, files
	keep := []string{a.Path, s.prev}
	s.mu.Unlock()
	s.prune(keep)
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
