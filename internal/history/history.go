// Package history is `tenantry history`: the changes to tenant files (and defaults.yaml) in
// the tenants repo's Git log, what each changed in the spec, and, from the host cluster,
// whether and when the agent applied them.
package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/plan"
)

// Kinds of change to a file.
const (
	Added    = "added"
	Modified = "modified"
	Removed  = "removed"
)

// Options selects the history to read.
type Options struct {
	// Dir is the tenants repo: a directory inside a Git work tree (the repo's root or,
	// as with the agent's --path, a sub-directory).
	Dir string
	// Tenant limits the history to tenants/<Tenant>.yaml and defaults.yaml; empty means
	// every tenant file.
	Tenant string
	// Limit bounds the number of commits returned; 0 means no bound.
	Limit int
}

// Commit is a commit that changed tenant files or defaults.yaml.
type Commit struct {
	Hash    string       `json:"commit"`
	Author  string       `json:"author"`
	Email   string       `json:"email"`
	Date    time.Time    `json:"date"`
	Message string       `json:"message"`
	Files   []FileChange `json:"files"`
}

// FileChange is the change of one file in a commit.
type FileChange struct {
	// Path is the file's path in the tenants repo: tenants/<name>.yaml or defaults.yaml.
	Path string `json:"path"`
	// Tenant is the tenant the file declares; empty for defaults.yaml.
	Tenant string `json:"tenant,omitempty"`
	// Change is added, modified or removed.
	Change string `json:"change"`
	// Fields are the changed spec fields (as written in the file, without defaults).
	Fields []plan.FieldChange `json:"fields,omitempty"`
	// Errors are the validation errors of the new version, when it is invalid.
	Errors []string `json:"errors,omitempty"`
	// Applied says whether the host cluster applied this change; nil without a cluster.
	Applied *Applied `json:"applied,omitempty"`
}

// Log reads the first-parent history of the branch checked out in the repo holding
// opts.Dir, newest first: the revisions that branch went through, which are what the
// agent applies. A merge commit is compared with its first parent, so a pull request shows
// up once, at its merge.
func Log(opts Options) ([]Commit, error) {
	repo, prefix, err := open(opts.Dir)
	if err != nil {
		return nil, err
	}
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("reading HEAD of %s: %w", opts.Dir, err)
	}
	c, err := repo.CommitObject(head.Hash())
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", head.Hash(), err)
	}
	w := watcher{prefix: prefix, tenant: opts.Tenant}
	var out []Commit
	for c != nil && (opts.Limit <= 0 || len(out) < opts.Limit) {
		var parent *object.Commit
		if c.NumParents() > 0 {
			if parent, err = c.Parent(0); err != nil {
				return nil, fmt.Errorf("reading the parent of %s: %w", c.Hash, err)
			}
		}
		files, err := w.changes(parent, c)
		if err != nil {
			return nil, err
		}
		if len(files) > 0 {
			out = append(out, Commit{Hash: c.Hash.String(), Author: c.Author.Name, Email: c.Author.Email,
				Date: c.Author.When, Message: strings.TrimSpace(c.Message), Files: files})
		}
		c = parent
	}
	return out, nil
}

// open opens the Git repository holding dir and returns dir's path in it ("" or "sub/").
func open(dir string) (*git.Repository, string, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, "", fmt.Errorf("opening the Git repository of %s: %w", dir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, "", fmt.Errorf("opening the work tree of %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", fmt.Errorf("resolving %s: %w", dir, err)
	}
	root, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return nil, "", fmt.Errorf("resolving %s: %w", wt.Filesystem.Root(), err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, "", fmt.Errorf("resolving %s: %w", dir, err)
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, "", fmt.Errorf("locating %s in %s: %w", dir, root, err)
	}
	if rel = filepath.ToSlash(rel); rel == "." {
		return repo, "", nil
	}
	return repo, rel + "/", nil
}

// HeadRevision returns the revision of the Git HEAD of the repo holding dir, formatted
// as the agent formats revisions: "<branch>@sha1:<hash>", or "sha1:<hash>" when detached.
func HeadRevision(dir string) (string, error) {
	repo, _, err := open(dir)
	if err != nil {
		return "", err
	}
	head, err := repo.Head()
	if err != nil {
		return "", fmt.Errorf("reading HEAD of %s: %w", dir, err)
	}
	if head.Name().IsBranch() {
		return head.Name().Short() + "@sha1:" + head.Hash().String(), nil
	}
	return "sha1:" + head.Hash().String(), nil
}

// watcher picks the files of interest in a tree diff and describes their changes.
type watcher struct {
	prefix, tenant string
}

// file returns the repo-relative path of a watched Git path, and its tenant.
func (w watcher) file(gitPath string) (string, string, bool) {
	rel, ok := strings.CutPrefix(gitPath, w.prefix)
	if !ok {
		return "", "", false
	}
	if rel == loader.DefaultsFile {
		return rel, "", true
	}
	dir, name := path.Split(rel)
	ext := path.Ext(name)
	if dir != loader.TenantsDir+"/" || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(name, ".") {
		return "", "", false
	}
	tenant := strings.TrimSuffix(name, ext)
	if w.tenant != "" && tenant != w.tenant {
		return "", "", false
	}
	return rel, tenant, true
}

func (w watcher) changes(parent, c *object.Commit) ([]FileChange, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("reading the tree of %s: %w", c.Hash, err)
	}
	var parentTree *object.Tree
	if parent != nil {
		if parentTree, err = parent.Tree(); err != nil {
			return nil, fmt.Errorf("reading the tree of %s: %w", parent.Hash, err)
		}
	}
	diff, err := object.DiffTree(parentTree, tree)
	if err != nil {
		return nil, fmt.Errorf("comparing %s with its parent: %w", c.Hash, err)
	}
	var out []FileChange
	for _, ch := range diff {
		name := ch.To.Name
		if name == "" {
			name = ch.From.Name
		}
		rel, tenant, ok := w.file(name)
		if !ok {
			continue
		}
		from, to, err := ch.Files()
		if err != nil {
			return nil, fmt.Errorf("reading %s at %s: %w", name, c.Hash, err)
		}
		old, err := contents(from)
		if err != nil {
			return nil, err
		}
		cur, err := contents(to)
		if err != nil {
			return nil, err
		}
		fc, oldInvalid := describe(rel, tenant, old, cur)
		if oldInvalid {
			// Compare a fix with the last valid version, not with the broken one.
			prev, err := lastValid(parent, name, rel, tenant)
			if err != nil {
				return nil, err
			}
			if prev != nil {
				fc, _ = describe(rel, tenant, prev, cur)
			}
		}
		out = append(out, fc)
	}
	return out, nil
}

// maxLookBack bounds how far back lastValid looks for a valid version of a file.
const maxLookBack = 100

// lastValid returns the newest valid version of a file at c or before it (first parents
// only), or nil when there is none: the file did not exist or stayed invalid.
func lastValid(c *object.Commit, gitPath, file, tenant string) ([]byte, error) {
	for range maxLookBack {
		f, err := c.File(gitPath)
		if errors.Is(err, object.ErrFileNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s at %s: %w", gitPath, c.Hash, err)
		}
		data, err := contents(f)
		if err != nil {
			return nil, err
		}
		if _, errs := spec(file, tenant, data); errs == nil {
			return data, nil
		}
		if c.NumParents() == 0 {
			return nil, nil
		}
		parent, err := c.Parent(0)
		if err != nil {
			return nil, fmt.Errorf("reading the parent of %s: %w", c.Hash, err)
		}
		c = parent
	}
	return nil, nil
}

// contents reads a file of a tree; nil for a file that does not exist on that side.
func contents(f *object.File) ([]byte, error) {
	if f == nil {
		return nil, nil
	}
	r, err := f.Reader()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name, err)
	}
	data, err := io.ReadAll(r)
	if err = errors.Join(err, r.Close()); err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name, err)
	}
	return data, nil
}

// describe compares two versions of a tenant file (or defaults.yaml); old or cur is nil
// when the file did not exist on that side. oldInvalid reports a valid version replacing
// an invalid one, whose fields are then left empty.
func describe(file, tenant string, old, cur []byte) (fc FileChange, oldInvalid bool) {
	fc = FileChange{Path: file, Tenant: tenant, Change: Modified}
	switch {
	case old == nil:
		fc.Change = Added
	case cur == nil:
		fc.Change = Removed
	}
	newSpec, errs := spec(file, tenant, cur)
	for _, e := range errs {
		fc.Errors = append(fc.Errors, e.Error())
	}
	if fc.Change != Modified || errs != nil {
		return fc, false
	}
	oldSpec, errs := spec(file, tenant, old)
	if errs != nil {
		return fc, true
	}
	fc.Fields = plan.FieldChanges(map[string]any{"spec": oldSpec}, map[string]any{"spec": newSpec})
	return fc, false
}

// spec parses a tenant file, or defaults.yaml when tenant is empty, and returns its spec
// as generic JSON values; nil when data is nil.
func spec(file, tenant string, data []byte) (map[string]any, loader.FieldErrors) {
	if data == nil {
		return nil, nil
	}
	var s any
	if tenant == "" {
		d, errs := loader.ParseDefaults(file, data)
		if errs != nil {
			return nil, errs
		}
		s = d.Spec
	} else {
		t, errs := loader.ParseTenant(file, data)
		if errs != nil {
			return nil, errs
		}
		s = t.Spec
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, loader.FieldErrors{{Path: file, Field: "spec", Msg: err.Error()}}
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, loader.FieldErrors{{Path: file, Field: "spec", Msg: err.Error()}}
	}
	return m, nil
}

// commitHash extracts the commit hash of a revision ("main@sha1:<hash>", "sha1:<hash>").
func commitHash(rev string) string {
	if i := strings.LastIndex(rev, "sha1:"); i >= 0 {
		return rev[i+len("sha1:"):]
	}
	return ""
}

// isAncestor reports whether commit c is a or an ancestor of a, in repo.
func isAncestor(repo *git.Repository, c, a string) (bool, error) {
	if c == a {
		return true, nil
	}
	cc, err := repo.CommitObject(plumbing.NewHash(c))
	if err != nil {
		return false, fmt.Errorf("reading commit %s: %w", c, err)
	}
	ac, err := repo.CommitObject(plumbing.NewHash(a))
	if err != nil {
		return false, fmt.Errorf("reading commit %s: %w", a, err)
	}
	ok, err := cc.IsAncestor(ac)
	if err != nil {
		return false, fmt.Errorf("checking whether %s is an ancestor of %s: %w", c, a, err)
	}
	return ok, nil
}
