package source

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// writeTree writes the files of commit's tree under dir in one walk of the tree. go-git's
// worktree checkout looks every file up from the root tree again, decoding each directory
// tree once per file in it: quadratic in a directory of thousands of tenant files (28 s of
// a one-change pass at 5,000 tenants). Submodules are skipped, as they are not cloned;
// symlinks are written as symlinks, for checkSymlinks to judge.
func writeTree(commit *object.Commit, dir string) error {
	tree, err := commit.Tree()
	if err != nil {
		return fmt.Errorf("tree of %s: %w", commit.Hash, err)
	}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("walking the tree of %s: %w", commit.Hash, err)
		}
		if err := writeEntry(tree, dir, name, entry); err != nil {
			return err
		}
	}
}

func writeEntry(tree *object.Tree, dir, name string, entry object.TreeEntry) error {
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
	f, err := tree.TreeEntryFile(&entry) // the blob by hash, the entry's own name checked again
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return writeFile(f, path, entry.Mode)
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
