package loader

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem in a repo file, located by file, line and field.
type FieldError struct {
	// Path is the file's path in the repo, e.g. "tenants/team-a.yaml".
	Path string
	// Line is the 1-based line of the problem; 0 when it has no line (e.g. an empty file).
	Line int
	// Field is the dotted field path, e.g. "spec.owners[1].kind"; empty for the whole file.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error formats the error as "tenants/team-a.yaml:12: spec.quota.cpu: invalid quantity "2o"".
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FieldErrors are all the problems found in one file.
type FieldErrors []FieldError

// Error joins the errors, one per line.
func (es FieldErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted returns the errors ordered by line, keeping the order of errors on the same line.
func (es FieldErrors) sorted() FieldErrors {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b FieldError) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

// collector gathers the errors of one file. Structural errors (wrong type, bad
// quantity) mark their field as rejected, so that the semantic checks run on the
// decoded struct do not report the same field again.
type collector struct {
	file     string
	lines    lineIndex
	errs     FieldErrors
	rejected []string
}

func newCollector(file string) *collector {
	return &collector{file: file, lines: lineIndex{}}
}

// at records an error at an explicit line.
func (c *collector) at(line int, field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Path: c.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// reject records an error for a value that is left out of the decoded object.
func (c *collector) reject(line int, field, format string, args ...any) {
	c.at(line, field, format, args...)
	c.rejected = append(c.rejected, field)
}

// field records a semantic error, at the line where the field (or its closest parent) is
// written, unless the field was already rejected.
func (c *collector) field(field, format string, args ...any) {
	if c.isRejected(field) {
		return
	}
	c.at(c.lines.at(field), field, format, args...)
}

func (c *collector) isRejected(field string) bool {
	for _, r := range c.rejected {
		if isWithin(field, r) {
			return true
		}
	}
	return false
}

// result returns the errors sorted by line, or nil when there are none.
func (c *collector) result() FieldErrors {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs.sorted()
}
