package source

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// checkout is a directory writeTree wrote, with the blob of each regular file in it.
type checkout struct {
	dir   string
	files treeFiles
}

// treeFiles are the blobs of the regular files writeTree wrote, by slash-separated tree path.
type treeFiles map[string]blobID

// blobID is a file's content and mode in the tree.
type blobID struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

// writeTree writes the files of commit's tree under dir in one walk of the tree, and
// returns what it wrote. A file whose blob and mode are the same in prev (the last
// checkout, or nil) is hard-linked from there instead of read from the pack and written:
// a commit that changes one tenant file of thousands then costs a link per file. The
// checkouts are never written after writeTree, so sharing inodes is safe. go-git's
// worktree checkout is not used: it looks every file up from the root tree again,
// decoding each directory tree once per file in it (quadratic in a directory of thousands
// of tenant files). Submodules are skipped, as they are not cloned; symlinks are written
// as symlinks, for checkSymlinks to judge.
func writeTree(commit *object.Commit, dir string, prev *checkout) (treeFiles, error) {
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", commit.Hash, err)
	}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	out := treeFiles{}
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("walking the tree of %s: %w", commit.Hash, err)
		}
		if err := writeEntry(tree, dir, name, entry, prev); err != nil {
			return nil, err
		}
		if entry.Mode == filemode.Regular || entry.Mode == filemode.Executable {
			out[name] = blobID{hash: entry.Hash, mode: entry.Mode}
		}
	}
}

func writeEntry(tree *object.Tree, dir, name string, entry object.TreeEntry, prev *checkout) error {
	if err := safeTreePath(name); err != nil {
		return err
	}
	path := filepath.Join(dir, filepath.FromSlash(name))
	switch entry.Mode {
	case filemode.Dir:
		return os.MkdirAll(path, 0o755)
	case filemode.Submodule:
		return nil
	}
	if prev.has(name, entry) && os.Link(filepath.Join(prev.dir, filepath.FromSlash(name)), path) == nil {
		return nil
	}
	f, err := tree.TreeEntryFile(&entry) // the blob by hash, the entry's own name checked again
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return writeFile(f, path, entry.Mode)
}

// has reports whether the checkout holds the entry's blob, with its mode, at name.
func (c *checkout) has(name string, entry object.TreeEntry) bool {
	if c == nil {
		return false
	}
	id, ok := c.files[name]
	return ok && id == blobID{hash: entry.Hash, mode: entry.Mode}
}

// errUnsafePath is a tree entry that would be written outside the checkout or into a .git.
var errUnsafePath = errors.New("unsafe path in the repository tree")

// safeTreePath refuses a tree path with an empty, ".", ".." or ".git" element, or a
// backslash: a crafted tree must not write outside the checkout.
func safeTreePath(name string) error {
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." || strings.EqualFold(el, ".git") || strings.ContainsRune(el, '\\') {
			return fmt.Errorf("%w: %q", errUnsafePath, name)
		}
	}
	return nil
}

func writeFile(f *object.File, path string, mode filemode.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if mode == filemode.Symlink {
		target, err := f.Contents()
		if err != nil {
			return fmt.Errorf("reading symlink %s: %w", f.Name, err)
		}
		return os.Symlink(target, path)
	}
	perm := os.FileMode(0o644)
	if mode == filemode.Executable {
		perm = 0o755
	}
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("reading %s: %w", f.Name, err)
	}
	defer func() { _ = r.Close() }()
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := io.Copy(out, r); err != nil {
		_ = out.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return out.Close()
}
