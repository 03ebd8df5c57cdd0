package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
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

// objectCacheSize bounds go-git's object cache during a fetch.
const objectCacheSize = 8 * cache.MiByte

// clonePinned clones the whole history into a repository stored in gitDir, without a
// worktree, and returns the pinned commit: a pinned commit needs the history to be found.
// It is fetched once; branches and tags go through the kept store (fetchStored).
func (r *remote) clonePinned(ctx context.Context, ref Ref, gitDir string) (*object.Commit, error) {
	repo, err := git.CloneContext(ctx, newStorage(gitDir), nil, r.cloneOptions())
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	return peelCommit(repo, plumbing.NewHash(ref.Commit))
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
