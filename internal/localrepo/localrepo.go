// Package localrepo keeps a local Git repository (go-git) that the agent can pull from a file:// URL.
package localrepo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is a non-bare repository on branch main.
type Repo struct {
	Dir  string
	repo *git.Repository
}

// Init creates a repository in dir with main as its default branch.
func Init(dir string) (*Repo, error) {
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		return nil, fmt.Errorf("initialising %s: %w", dir, err)
	}
	return &Repo{Dir: dir, repo: r}, nil
}

// URL is the file:// URL of the repository.
func (r *Repo) URL() string { return "file://" + r.Dir }

// Write writes a file (relative path) into the work tree.
func (r *Repo) Write(path string, data []byte) error {
	full := filepath.Join(r.Dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Remove deletes a file (relative path) from the work tree.
func (r *Repo) Remove(path string) error {
	if err := os.Remove(filepath.Join(r.Dir, path)); err != nil {
		return fmt.Errorf("removing %s: %w", path, err)
	}
	return nil
}

// CopyDir copies every regular file under src into the work tree.
func (r *Repo) CopyDir(src string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return fmt.Errorf("relative path of %s: %w", path, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		return r.Write(rel, data)
	})
}

// Commit stages every change (additions and deletions) and commits; it returns the hash.
func (r *Repo) Commit(msg string) (string, error) {
	wt, err := r.repo.Worktree()
	if err != nil {
		return "", fmt.Errorf("opening work tree: %w", err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return "", fmt.Errorf("staging: %w", err)
	}
	hash, err := wt.Commit(msg, &git.CommitOptions{
		AllowEmptyCommits: true,
		Author:            &object.Signature{Name: "tenantry", Email: "dev@tenantry.dev", When: time.Now()},
	})
	if err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	return hash.String(), nil
}
