package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"

	"k8s.io/apimachinery/pkg/util/intstr"
)

// Gator suite format (https://open-policy-agent.github.io/gatekeeper/website/docs/gator).
const (
	suiteFile       = "suite.yaml"
	suiteKind       = "Suite"
	suiteAPIVersion = "test.gatekeeper.sh/v1alpha1"
)

// suite mirrors gator's Suite. Unknown fields are rejected so that a typo
// (e.g. "assertion:") cannot silently disable a check.
type suite struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   map[string]any `json:"metadata,omitempty"`
	Tests      []suiteTest    `json:"tests"`
	Skip       bool           `json:"skip,omitempty"`
}

// suiteTest is a template and constraint pair with cases to run against it.
type suiteTest struct {
	Name       string      `json:"name"`
	Template   string      `json:"template"`
	Constraint string      `json:"constraint"`
	Expansion  string      `json:"expansion,omitempty"`
	Cases      []suiteCase `json:"cases,omitempty"`
	// Invalid expects the constraint to fail schema validation.
	Invalid bool `json:"invalid,omitempty"`
	Skip    bool `json:"skip,omitempty"`
}

// suiteCase reviews one object and checks assertions on the violations.
type suiteCase struct {
	Name       string      `json:"name"`
	Object     string      `json:"object"`
	Inventory  []string    `json:"inventory,omitempty"`
	Assertions []assertion `json:"assertions"`
	Skip       bool        `json:"skip,omitempty"`
}

// assertion is gator's Assertion: Violations is "yes" (default), "no" or an
// exact count of violations whose message matches the Message regular
// expression (unanchored, so a literal substring works too).
type assertion struct {
	Violations *intstr.IntOrString `json:"violations,omitempty"`
	Message    *string             `json:"message,omitempty"`
}

// loadSuite reads and validates the suite.yaml at the root of fsys.
func loadSuite(fsys fs.FS) (*suite, error) {
	data, err := fs.ReadFile(fsys, suiteFile)
	if err != nil {
		return nil, fmt.Errorf("reading suite: %w", err)
	}
	docs, err := decodeYAMLDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", suiteFile, err)
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: %w: found %d", suiteFile, errNotOneObject, len(docs))
	}
	dec := json.NewDecoder(bytes.NewReader(docs[0]))
	dec.DisallowUnknownFields()
	s := &suite{}
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("%s: %w", suiteFile, err)
	}
	if s.Kind != suiteKind || s.APIVersion != suiteAPIVersion {
		return nil, fmt.Errorf("%s: %w: want kind %s, apiVersion %s, got kind %q, apiVersion %q",
			suiteFile, errInvalidSuite, suiteKind, suiteAPIVersion, s.Kind, s.APIVersion)
	}
	return s, nil
}

// files returns every file path the suite references, cleaned, in order of
// appearance; paths that leave the suite directory are an error.
func (s *suite) files() ([]string, error) {
	var out []string
	add := func(p string) error {
		clean, err := suitePath(p)
		if err != nil {
			return err
		}
		out = append(out, clean)
		return nil
	}
	for _, t := range s.Tests {
		for _, p := range []string{t.Template, t.Constraint} {
			if err := add(p); err != nil {
				return nil, fmt.Errorf("test %q: %w", t.Name, err)
			}
		}
		for _, c := range t.Cases {
			for _, p := range append([]string{c.Object}, c.Inventory...) {
				if err := add(p); err != nil {
					return nil, fmt.Errorf("test %q case %q: %w", t.Name, c.Name, err)
				}
			}
		}
	}
	return out, nil
}

// suitePath cleans a path relative to the suite directory.
func suitePath(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: empty file path", errInvalidSuite)
	}
	clean := path.Clean(p)
	if !fs.ValidPath(clean) {
		return "", fmt.Errorf("%w: file path %q must be relative and inside the suite directory", errInvalidSuite, p)
	}
	return clean, nil
}

// expectsViolations reports whether the case asserts at least one violation.
func (c *suiteCase) expectsViolations() bool {
	for _, a := range c.Assertions {
		if a.minViolations() > 0 {
			return true
		}
	}
	return false
}

// minViolations is the smallest number of violations the assertion accepts.
func (a *assertion) minViolations() int {
	switch {
	case a.Violations == nil:
		return 1
	case a.Violations.Type == intstr.Int:
		return int(a.Violations.IntVal)
	case a.Violations.StrVal == "yes":
		return 1
	default:
		return 0
	}
}
