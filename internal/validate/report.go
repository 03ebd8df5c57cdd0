// Package validate checks a tenants repo and workload manifests offline with Gatekeeper's engine, for pull requests.
package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Severities of a finding.
const (
	SeverityError     = "error"     // the repo is malformed: exit 2
	SeverityViolation = "violation" // a denying policy is violated: exit 1
	SeverityWarning   = "warning"   // a warn or dryrun policy is violated: reported only
)

// Finding is one problem, located in a file.
type Finding struct {
	File       string `json:"file"`
	Line       int    `json:"line,omitempty"`
	Field      string `json:"field,omitempty"`
	Tenant     string `json:"tenant,omitempty"`
	Constraint string `json:"constraint,omitempty"`
	Severity   string `json:"severity"`
	Message    string `json:"message"`
}

// Report collects the findings of a validation.
type Report struct {
	Findings []Finding `json:"findings"`
	ctx      *repoContext
}

func (r *Report) add(f Finding) { r.Findings = append(r.Findings, f) }

func (r *Report) count(sev string) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// HasErrors reports whether the repo is malformed.
func (r *Report) HasErrors() bool { return r.count(SeverityError) > 0 }

// HasViolations reports whether a denying policy is violated.
func (r *Report) HasViolations() bool { return r.count(SeverityViolation) > 0 }

// Write prints the report as text, json or github (Actions annotations).
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "", "text":
		for _, f := range r.Findings {
			fmt.Fprintf(w, "%s: %s%s\n", location(f), label(f), f.Message)
		}
		fmt.Fprintf(w, "%d error(s), %d violation(s), %d warning(s)\n",
			r.count(SeverityError), r.count(SeverityViolation), r.count(SeverityWarning))
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"findings": nonNil(r.Findings), "errors": r.count(SeverityError),
			"violations": r.count(SeverityViolation), "warnings": r.count(SeverityWarning)})
	case "github":
		for _, f := range r.Findings {
			level := "error"
			if f.Severity == SeverityWarning {
				level = "warning"
			}
			fmt.Fprintf(w, "::%s file=%s,line=%d,title=%s::%s\n", level, f.File, max(f.Line, 1), escapeProperty(title(f)), escapeData(f.Message))
		}
	default:
		return fmt.Errorf("unknown output %q (text, json or github)", format)
	}
	return nil
}

func location(f Finding) string {
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return f.File
}

func label(f Finding) string {
	var parts []string
	if f.Field != "" {
		parts = append(parts, f.Field+": ")
	}
	if f.Constraint != "" {
		parts = append(parts, "["+f.Constraint+"] ")
	}
	return strings.Join(parts, "")
}

func title(f Finding) string {
	if f.Constraint != "" {
		return "tenantry " + f.Severity + ": " + f.Constraint
	}
	return "tenantry " + f.Severity
}

// escapeData encodes a GitHub Actions workflow command message.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty encodes a GitHub Actions workflow command property.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func nonNil(f []Finding) []Finding {
	if f == nil {
		return []Finding{}
	}
	return f
}
