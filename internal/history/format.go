package history

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Write prints commits as text or json.
func Write(w io.Writer, commits []Commit, format string) error {
	switch format {
	case "", "text":
		writeText(w, commits)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if commits == nil {
			commits = []Commit{}
		}
		if err := enc.Encode(commits); err != nil {
			return fmt.Errorf("encoding the history: %w", err)
		}
	default:
		return fmt.Errorf("unknown output %q (text or json)", format)
	}
	return nil
}

func writeText(w io.Writer, commits []Commit) {
	if len(commits) == 0 {
		fmt.Fprintln(w, "no changes to tenant files")
		return
	}
	for i, c := range commits {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "commit %s  %s  %s <%s>\n", short(c.Hash), c.Date.Format("2006-01-02 15:04:05 -0700"), c.Author, c.Email)
		for _, line := range strings.Split(c.Message, "\n") {
			fmt.Fprintf(w, "    %s\n", line)
		}
		for _, f := range c.Files {
			fmt.Fprintf(w, "  %s: %s\n", f.Path, changeText(f))
			for _, fc := range f.Fields {
				fmt.Fprintf(w, "      %s\n", fc)
			}
			for _, e := range f.Errors {
				fmt.Fprintf(w, "      invalid: %s\n", e)
			}
			if f.Applied != nil {
				fmt.Fprintf(w, "      cluster: %s\n", appliedText(*f.Applied))
			}
		}
	}
}

func changeText(f FileChange) string {
	what := "tenant " + f.Tenant
	if f.Tenant == "" {
		what = "defaults for every tenant"
	}
	switch {
	case f.Change == Modified && len(f.Fields) == 0 && len(f.Errors) == 0:
		return what + " modified (no spec change: comments or formatting)"
	case len(f.Errors) > 0:
		return what + " " + f.Change + ", invalid"
	}
	return what + " " + f.Change
}

func appliedText(a Applied) string {
	s := a.State
	if a.Time != nil {
		s += " at " + a.Time.UTC().Format(time.RFC3339)
	}
	if a.Detail != "" {
		s += " (" + a.Detail + ")"
	}
	return s
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
