package policy

import "errors"

var (
	errNoObjects         = errors.New("file defines no objects")
	errNotOneObject      = errors.New("file must define exactly one object")
	errNotTemplate       = errors.New("not a templates.gatekeeper.sh ConstraintTemplate")
	errDuplicateKind     = errors.New("duplicate constraint kind")
	errInvalidSuite      = errors.New("invalid suite")
	errAssertion         = errors.New("assertion failed")
	errUnexpectedlyValid = errors.New("constraint is valid, want invalid")
)
