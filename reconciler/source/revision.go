package source

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/go-git/go-git/v5/plumbing"
)

// DefaultBranch is the branch tracked when a Ref names nothing.
const DefaultBranch = "main"

// ErrInvalidRef is returned by New for a Ref that is not exactly one of
// branch, tag or a full commit hash.
var ErrInvalidRef = errors.New("invalid git reference")

var commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Ref selects what to check out: exactly one of Branch, Tag or Commit (a
// full 40 character SHA-1). The zero Ref tracks DefaultBranch.
type Ref struct {
	Branch string
	Tag    string
	Commit string
}

// normalize applies the default branch and validates r.
func (r Ref) normalize() (Ref, error) {
	set := 0
	for _, v := range []string{r.Branch, r.Tag, r.Commit} {
		if v != "" {
			set++
		}
	}
	switch {
	case set == 0:
		return Ref{Branch: DefaultBranch}, nil
	case set > 1:
		return r, fmt.Errorf("%w: set only one of branch, tag and commit", ErrInvalidRef)
	case r.Commit != "":
		if !commitPattern.MatchString(r.Commit) {
			return r, fmt.Errorf("%w: commit %q is not a full lower-case SHA-1", ErrInvalidRef, r.Commit)
		}
		return r, nil
	}
	if err := r.refName().Validate(); err != nil {
		return r, fmt.Errorf("%w: %q: %w", ErrInvalidRef, r.refName().Short(), err)
	}
	return r, nil
}

// refName is the full reference name for a branch or tag, empty for a
// commit pin.
func (r Ref) refName() plumbing.ReferenceName {
	switch {
	case r.Branch != "":
		return plumbing.NewBranchReferenceName(r.Branch)
	case r.Tag != "":
		return plumbing.NewTagReferenceName(r.Tag)
	}
	return ""
}

// revision formats commit the way Flux does: "<branch>@sha1:<hash>",
// "<tag>@sha1:<hash>" or, for a pinned commit, "sha1:<hash>".
func (r Ref) revision(commit string) string {
	switch {
	case r.Branch != "":
		return r.Branch + "@sha1:" + commit
	case r.Tag != "":
		return r.Tag + "@sha1:" + commit
	}
	return "sha1:" + commit
}

// String describes r for messages.
func (r Ref) String() string {
	switch {
	case r.Branch != "":
		return "branch " + r.Branch
	case r.Tag != "":
		return "tag " + r.Tag
	case r.Commit != "":
		return "commit " + r.Commit
	}
	return "branch " + DefaultBranch
}
