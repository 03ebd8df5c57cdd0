package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"
)

// tmpPrefix names in-progress fetch directories inside the work dir.
const tmpPrefix = ".fetch-"

// fetchNew clones the tracked reference into a temporary directory and
// moves the checkout to <dir>/<commit>. Nothing outside the temporary
// directory changes unless the clone and checkout succeed. When the commit
// is the last good one and its checkout exists, that checkout is reused (and the
// returned checkout is nil). Files the last checkout has already are linked from it.
func (s *Source) fetchNew(ctx context.Context) (*Artifact, treeFiles, error) {
	tmp, err := os.MkdirTemp(s.dir, tmpPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("create fetch dir: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	tree := filepath.Join(tmp, "tree")
	s.clones.Add(1)
	commit, err := s.fetchCommit(ctx, tmp)
	if err != nil {
		return nil, nil, s.remote.redactor.errorf("fetch %s %s: %w", s.remote.display, s.ref, err)
	}
	if last := s.LastGood(); last != nil && last.Commit == commit.Hash.String() && dirExists(last.Path) {
		return last, nil, nil
	}
	if err := os.MkdirAll(tree, 0o700); err != nil {
		return nil, nil, fmt.Errorf("checkout dir: %w", err)
	}
	files, err := writeTree(commit, tree, s.lastCheckout())
	if err != nil {
		return nil, nil, s.remote.redactor.errorf("fetch %s %s: checkout %s: %w", s.remote.display, s.ref, commit.Hash, err)
	}
	if err := checkSymlinks(tree); err != nil {
		return nil, nil, s.remote.redactor.errorf("fetch %s %s: commit %s: %w", s.remote.display, s.ref, commit.Hash, err)
	}
	final := filepath.Join(s.dir, commit.Hash.String())
	if err := install(tree, final); err != nil {
		return nil, nil, err
	}
	return newArtifact(s.ref, commit, final), files, nil
}

// install moves a finished checkout into place (writeTree writes no .git, and refuses one
// in the tree).
func install(tree, final string) error {
	if err := os.RemoveAll(final); err != nil {
		return fmt.Errorf("remove stale checkout: %w", err)
	}
	if err := os.Rename(tree, final); err != nil {
		return fmt.Errorf("install checkout: %w", err)
	}
	return nil
}

// fetchCommit brings the tracked commit's objects: for a branch or tag into the object store
// kept in the work dir, for a pinned commit into tmp (fetched once, with its history).
func (s *Source) fetchCommit(ctx context.Context, tmp string) (*object.Commit, error) {
	if s.ref.Commit != "" {
		return s.remote.clonePinned(ctx, s.ref, filepath.Join(tmp, "git"))
	}
	return s.remote.fetchStored(ctx, s.ref, filepath.Join(s.dir, storeName))
}

func newArtifact(ref Ref, c *object.Commit, path string) *Artifact {
	return &Artifact{
		Revision: ref.revision(c.Hash.String()),
		Commit:   c.Hash.String(),
		Path:     path,
		Author:   fmt.Sprintf("%s <%s>", c.Author.Name, c.Author.Email),
		Message:  c.Message,
		Time:     c.Committer.When,
	}
}

// prune removes checkouts other than keep and leftover fetch directories.
// It is best effort: a failure only leaves disk space in use.
func (s *Source) prune(keep []string) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		path := filepath.Join(s.dir, e.Name())
		owned := commitPattern.MatchString(e.Name()) || strings.HasPrefix(e.Name(), tmpPrefix)
		if owned && !slices.Contains(keep, path) {
			_ = os.RemoveAll(path)
		}
	}
}
