package translate

import (
	"errors"
	"strings"
)

// Refusal is one field of a virtual object that may not reach the host, and why.
type Refusal struct {
	// Field is the field's path in the virtual object, e.g. spec.externalIPs.
	Field string
	// Reason says why, and what (if anything) in the tenant file would allow it.
	Reason string
}

// Refusals collects what one translation refuses. The zero value is ready to use.
type Refusals []Refusal

// Add records that field is not allowed, for reason.
func (r *Refusals) Add(field, reason string) { *r = append(*r, Refusal{Field: field, Reason: reason}) }

// Err is nil when nothing was refused, else a *RefusedError listing every refusal.
func (r Refusals) Err() error {
	if len(r) == 0 {
		return nil
	}
	return &RefusedError{Refusals: r}
}

// RefusedError means a virtual object was refused: nothing of it is written to the host.
type RefusedError struct{ Refusals []Refusal }

// Error lists one "<field> is not allowed: <reason>" per line.
func (e *RefusedError) Error() string {
	lines := make([]string, len(e.Refusals))
	for i, r := range e.Refusals {
		lines[i] = r.Field + " is not allowed: " + r.Reason
	}
	return strings.Join(lines, "\n")
}

// IsRefused reports whether err is (or wraps) a *RefusedError.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// Refuse is a single-refusal error.
func Refuse(field, reason string) error {
	return &RefusedError{Refusals: []Refusal{{Field: field, Reason: reason}}}
}

// AddErr adds the refusals of err, a *RefusedError; any other non-nil err is returned.
func (r *Refusals) AddErr(err error) error {
	var refused *RefusedError
	if errors.As(err, &refused) {
		*r = append(*r, refused.Refusals...)
		return nil
	}
	return err
}
