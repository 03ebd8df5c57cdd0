package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// storeName is the object store kept between fetches, inside the work dir.
const storeName = ".store"

// maxStorePacks bounds the packs a store gathers (about one per fetch) before it is
// cloned afresh, which also drops the objects of old commits.
const maxStorePacks = 64

// errNoStore is a store not cloned yet.
var errNoStore = errors.New("no object store yet")

// fetchStored brings ref's commit into the object store at dir and returns it. The first
// fetch clones (shallow); later ones fetch into the store, so only the objects it lacks
// cross the wire and get indexed: a commit that changes one tenant file of thousands
// brings that file, not the repo. A store that cannot fetch, or has gathered
// maxStorePacks packs, is removed and cloned afresh.
func (r *remote) fetchStored(ctx context.Context, ref Ref, dir string) (*object.Commit, error) {
	if packs(dir) < maxStorePacks {
		c, err := r.fetchInto(ctx, ref, dir)
		if err == nil || ctx.Err() != nil {
			return c, err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("removing the object store: %w", err)
	}
	c, err := r.cloneInto(ctx, ref, dir)
	if err != nil {
		_ = os.RemoveAll(dir) // never leave half a store for the next fetch
	}
	return c, err
}

// fetchInto fetches ref into the existing store at dir, to the same reference name. It
// fetches without a depth: with one, go-git announces no objects it has and the server
// sends the whole tree again. Without, the server sends what the new commits add to the
// commit the store has; a history rewritten by a force push comes whole, once.
func (r *remote) fetchInto(ctx context.Context, ref Ref, dir string) (*object.Commit, error) {
	if !dirExists(dir) {
		return nil, errNoStore
	}
	repo, err := git.Open(newStorage(dir), nil)
	if err != nil {
		return nil, fmt.Errorf("opening the object store: %w", err)
	}
	name := ref.refName()
	err = repo.FetchContext(ctx, &git.FetchOptions{RemoteName: git.DefaultRemoteName, RemoteURL: r.url, Auth: r.auth, CABundle: r.caBundle,
		RefSpecs: []config.RefSpec{config.RefSpec("+" + name + ":" + name)}, Tags: git.NoTags, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	got, err := repo.Reference(name, true)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", name, err)
	}
	return peelCommit(repo, got.Hash())
}

// cloneInto clones ref, shallow and without a worktree, into a new store at dir and
// returns its commit; the reference keeps its name there, for fetchInto.
func (r *remote) cloneInto(ctx context.Context, ref Ref, dir string) (*object.Commit, error) {
	opts := r.cloneOptions()
	opts.ReferenceName, opts.SingleBranch, opts.Depth, opts.Tags = ref.refName(), true, 1, git.NoTags
	repo, err := git.CloneContext(ctx, newStorage(dir), nil, opts)
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("resolve HEAD: %w", err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(ref.refName(), head.Hash())); err != nil {
		return nil, fmt.Errorf("recording %s: %w", ref.refName(), err)
	}
	return peelCommit(repo, head.Hash())
}

// cloneOptions are the options every clone of the remote shares: its URL and credentials,
// and no worktree (writeTree writes the checkout).
func (r *remote) cloneOptions() *git.CloneOptions {
	return &git.CloneOptions{URL: r.url, Auth: r.auth, CABundle: r.caBundle, NoCheckout: true}
}

// newStorage is a filesystem object store at dir with a small object cache: a fetch reads
// each object about once, and go-git's default (96 MiB) was most of the agent's peak memory
// at a thousand tenant files.
func newStorage(dir string) *filesystem.Storage {
	return filesystem.NewStorage(osfs.New(dir, osfs.WithBoundOS()), cache.NewObjectLRU(objectCacheSize))
}

// packs counts the pack files in the store at dir (0 when there is none).
func packs(dir string) int {
	entries, err := os.ReadDir(filepath.Join(dir, "objects", "pack"))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pack") {
			n++
		}
	}
	return n
}
