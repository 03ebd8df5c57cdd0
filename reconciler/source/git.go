package source

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
)

// ErrReferenceNotFound is returned when the remote has no such branch or tag.
var ErrReferenceNotFound = errors.New("reference not found")

// lsRemote returns the commit the remote's branch or tag points at,
// peeling annotated tags.
func (r *remote) lsRemote(ctx context.Context, ref Ref) (plumbing.Hash, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{
		Name: git.DefaultRemoteName,
		URLs: []string{r.url},
	})
	refs, err := rem.ListContext(ctx, &git.ListOptions{
		Auth:          r.auth,
		CABundle:      r.caBundle,
		PeelingOption: git.AppendPeeled,
	})
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return findRef(refs, ref.refName())
}

// findRef prefers the peeled entry ("<name>^{}") of an annotated tag.
func findRef(refs []*plumbing.Reference, name plumbing.ReferenceName) (plumbing.Hash, error) {
	var found *plumbing.Reference
	for _, r := range refs {
		switch r.Name() {
		case name + "^{}":
			return r.Hash(), nil
		case name:
			found = r
		}
	}
	if found == nil {
		return plumbing.ZeroHash, fmt.Errorf("%w: %s", ErrReferenceNotFound, name)
	}
	return found.Hash(), nil
}

// objectCacheSize bounds go-git's object cache during a clone.
const objectCacheSize = 8 * cache.MiByte

// clone fetches ref into a repository stored in gitDir, checks it out into
// treeDir (linking the files prev, the last checkout or nil, has already) and
// returns the checked out commit and checkout. Branches and tags are cloned
// shallow; a pinned commit needs the full history to be found.
func (r *remote) clone(ctx context.Context, ref Ref, gitDir, treeDir string, prev *checkout) (*object.Commit, *checkout, error) {
	// A small object cache: a clone reads each object about once, and go-git's default
	// (96 MiB) was most of the agent's peak memory at a thousand tenant files.
	storage := filesystem.NewStorage(osfs.New(gitDir, osfs.WithBoundOS()), cache.NewObjectLRU(objectCacheSize))
	// No worktree checkout: writeTree writes the commit's files in one walk.
	opts := &git.CloneOptions{URL: r.url, Auth: r.auth, CABundle: r.caBundle, NoCheckout: true}
	if ref.Commit == "" {
		opts.ReferenceName = ref.refName()
		opts.SingleBranch = true
		opts.Depth = 1
		opts.Tags = git.NoTags
	}
	repo, err := git.CloneContext(ctx, storage, nil, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("clone: %w", err)
	}
	hash := plumbing.NewHash(ref.Commit)
	if ref.Commit == "" {
		head, err := repo.Head()
		if err != nil {
			return nil, nil, fmt.Errorf("resolve HEAD: %w", err)
		}
		hash = head.Hash()
	}
	commit, err := peelCommit(repo, hash)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(treeDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("checkout dir: %w", err)
	}
	co, err := writeTree(commit, treeDir, prev)
	if err != nil {
		return nil, nil, fmt.Errorf("checkout %s: %w", commit.Hash, err)
	}
	return commit, co, nil
}

// peelCommit returns the commit hash points at, following annotated tags.
func peelCommit(repo *git.Repository, hash plumbing.Hash) (*object.Commit, error) {
	obj, err := repo.Object(plumbing.AnyObject, hash)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", hash, err)
	}
	for {
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			if obj, err = o.Object(); err != nil {
				return nil, fmt.Errorf("peel tag %s: %w", o.Name, err)
			}
		default:
			return nil, fmt.Errorf("%s is a %s, not a commit", hash, obj.Type())
		}
	}
}
