package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"

	"github.com/open-policy-agent/frameworks/constraint/pkg/apis/constraints"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// CaseResult is the outcome of one suite case. Err is nil when every
// assertion held. Errors that prevent a whole test from running (template
// or constraint cannot be loaded, an invalid: true test whose constraint is
// accepted) are reported once with an empty Case.
type CaseResult struct {
	Test    string
	Case    string
	Skipped bool
	Err     error
}

// RunSuite runs the gator suite (suite.yaml) in dir through Engine, one fresh
// Engine per case holding the test's template and constraint plus the case's
// inventory. File paths in the suite are relative to dir and must stay
// inside it. The returned error reports a suite that cannot be read; failed
// cases are reported in the results.
//
// Supported: tests with template, constraint, cases or invalid: true; cases
// with object, inventory and assertions; skip on suites, tests and cases.
// Not supported (reported as a failed test or case): expansion, and
// AdmissionReview objects.
func RunSuite(ctx context.Context, dir string) ([]CaseResult, error) {
	fsys := os.DirFS(dir)
	s, err := loadSuite(fsys)
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", dir, err)
	}
	if s.Skip {
		return nil, nil
	}
	var results []CaseResult
	for i := range s.Tests {
		results = append(results, runTest(ctx, fsys, &s.Tests[i])...)
	}
	return results, nil
}

// runTest runs every case of t, or checks an invalid: true test.
func runTest(ctx context.Context, fsys fs.FS, t *suiteTest) []CaseResult {
	if t.Skip {
		return []CaseResult{{Test: t.Name, Skipped: true}}
	}
	testErr := func(err error) []CaseResult {
		return []CaseResult{{Test: t.Name, Err: err}}
	}
	if t.Expansion != "" {
		return testErr(fmt.Errorf("%w: expansion is not supported", errInvalidSuite))
	}
	tmpl, constraint, err := loadTestObjects(fsys, t)
	if err != nil {
		return testErr(err)
	}

	if t.Invalid {
		if len(t.Cases) > 0 {
			return testErr(fmt.Errorf("%w: invalid: true and cases are mutually exclusive", errInvalidSuite))
		}
		return testErr(checkInvalidConstraint(ctx, tmpl, constraint))
	}
	if len(t.Cases) == 0 {
		return testErr(fmt.Errorf("%w: test has no cases", errInvalidSuite))
	}
	// Fail the test once if the template or constraint does not load,
	// instead of once per case.
	if _, err := newTestEngine(ctx, tmpl, constraint); err != nil {
		return testErr(err)
	}

	results := make([]CaseResult, 0, len(t.Cases))
	for i := range t.Cases {
		c := &t.Cases[i]
		r := CaseResult{Test: t.Name, Case: c.Name, Skipped: c.Skip}
		if !c.Skip {
			r.Err = runCase(ctx, fsys, tmpl, constraint, c)
		}
		results = append(results, r)
	}
	return results
}

func loadTestObjects(fsys fs.FS, t *suiteTest) (tmpl, constraint *unstructured.Unstructured, err error) {
	tmplPath, err := suitePath(t.Template)
	if err != nil {
		return nil, nil, fmt.Errorf("template: %w", err)
	}
	constraintPath, err := suitePath(t.Constraint)
	if err != nil {
		return nil, nil, fmt.Errorf("constraint: %w", err)
	}
	if tmpl, err = readObject(fsys, tmplPath); err != nil {
		return nil, nil, err
	}
	if constraint, err = readObject(fsys, constraintPath); err != nil {
		return nil, nil, err
	}
	return tmpl, constraint, nil
}

func newTestEngine(ctx context.Context, tmpl, constraint *unstructured.Unstructured) (*Engine, error) {
	e, err := NewEngine(ctx, []*unstructured.Unstructured{tmpl})
	if err != nil {
		return nil, err
	}
	if err := e.AddConstraint(ctx, constraint); err != nil {
		return nil, err
	}
	return e, nil
}

// checkInvalidConstraint passes when the constraint fails schema validation,
// as gator requires for invalid: true.
func checkInvalidConstraint(ctx context.Context, tmpl, constraint *unstructured.Unstructured) error {
	e, err := NewEngine(ctx, []*unstructured.Unstructured{tmpl})
	if err != nil {
		return err
	}
	err = e.AddConstraint(ctx, constraint)
	if errors.Is(err, constraints.ErrSchema) {
		return nil
	}
	return fmt.Errorf("%w: got error %w, want a schema validation error", errUnexpectedlyValid, err)
}

// runCase reviews the case's object and checks every assertion.
func runCase(ctx context.Context, fsys fs.FS, tmpl, constraint *unstructured.Unstructured, c *suiteCase) error {
	if len(c.Assertions) == 0 {
		return fmt.Errorf("%w: assertions must be non-empty", errInvalidSuite)
	}
	objPath, err := suitePath(c.Object)
	if err != nil {
		return fmt.Errorf("object: %w", err)
	}
	obj, err := readObject(fsys, objPath)
	if err != nil {
		return err
	}
	if obj.GetKind() == "AdmissionReview" && obj.GroupVersionKind().Group == "admission.k8s.io" {
		return fmt.Errorf("%w: AdmissionReview objects are not supported", errInvalidSuite)
	}

	e, err := newTestEngine(ctx, tmpl, constraint)
	if err != nil {
		return err
	}
	for _, p := range c.Inventory {
		if err := addInventory(ctx, e, fsys, p); err != nil {
			return err
		}
	}
	violations, err := e.Review(ctx, obj)
	if err != nil {
		return err
	}
	for i := range c.Assertions {
		if err := c.Assertions[i].check(violations); err != nil {
			return fmt.Errorf("assertion %d: %w", i+1, err)
		}
	}
	return nil
}

func addInventory(ctx context.Context, e *Engine, fsys fs.FS, p string) error {
	clean, err := suitePath(p)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	objs, err := readObjects(fsys, clean)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := e.AddObject(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// check applies gator's assertion semantics to violations.
func (a *assertion) check(violations []Violation) error {
	var re *regexp.Regexp
	if a.Message != nil {
		var err error
		if re, err = regexp.Compile(*a.Message); err != nil {
			return fmt.Errorf("%w: message: %w", errInvalidSuite, err)
		}
	}
	matching := 0
	messages := make([]string, 0, len(violations))
	for _, v := range violations {
		messages = append(messages, v.Message)
		if re == nil || re.MatchString(v.Message) {
			matching++
		}
	}

	what := "violations"
	if a.Message != nil {
		what = fmt.Sprintf("violations matching %q", *a.Message)
	}
	want := a.Violations
	if want == nil {
		want = &intstr.IntOrString{Type: intstr.String, StrVal: "yes"}
	}
	switch {
	case want.Type == intstr.Int && want.IntVal >= 0:
		if matching != int(want.IntVal) {
			return fmt.Errorf("%w: got %d %s, want exactly %d; messages: %q", errAssertion, matching, what, want.IntVal, messages)
		}
	case want.Type == intstr.String && want.StrVal == "yes":
		if matching == 0 {
			return fmt.Errorf("%w: got no %s, want at least one; messages: %q", errAssertion, what, messages)
		}
	case want.Type == intstr.String && want.StrVal == "no":
		if matching != 0 {
			return fmt.Errorf("%w: got %d %s, want none; messages: %q", errAssertion, matching, what, messages)
		}
	default:
		return fmt.Errorf(`%w: violations must be a non-negative integer, "yes" or "no", got %q`, errInvalidSuite, want.String())
	}
	return nil
}
