package notify

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Mask replaces every value of a secret object.
const Mask = "***"

// Limits that keep a message readable and inside every provider's size limits.
const (
	maxObjects      = 10
	maxChanges      = 10
	maxValueRunes   = 120
	maxTitleRunes   = 150
	maxMessageRunes = 1000
	maxCommitRunes  = 200
	maxSummaryLines = 20
	maxTenants      = 50
)

// Sanitize returns a copy of e that is safe to send: every value of a secret object is
// masked as Mask, credentials, query and fragment are stripped from RepoURL, and repo
// credentials in the message texts are redacted (RedactCredentials). It does
// not modify e.
func Sanitize(e Event) Event {
	e.RepoURL = safeRepoURL(e.RepoURL)
	e.Message, e.CommitMessage = RedactCredentials(e.Message), RedactCredentials(e.CommitMessage)
	if len(e.Objects) == 0 {
		return e
	}
	objs := make([]ObjectDiff, len(e.Objects))
	for i, o := range e.Objects {
		if len(o.Changes) > 0 {
			changes := make([]FieldChange, len(o.Changes))
			copy(changes, o.Changes)
			if IsSecret(o) {
				for j := range changes {
					changes[j].Old, changes[j].New = Mask, Mask
				}
			}
			o.Changes = changes
		}
		if IsSecret(o) {
			o.Secret = true
		}
		objs[i] = o
	}
	e.Objects = objs
	return e
}

// IsSecret reports whether o's values must be masked: it is flagged Secret or its
// object name is "Secret/...".
func IsSecret(o ObjectDiff) bool {
	return o.Secret || strings.HasPrefix(o.Object, "Secret/")
}

// severity picks colors and emoji per provider.
type severity int

const (
	sevInfo severity = iota
	sevGood
	sevWarning
	sevDanger
)

func kindSeverity(k Kind) severity {
	switch k {
	case KindFailure, KindStalled:
		return sevDanger
	case KindDrift, KindHeldBack:
		return sevWarning
	case KindRecovered:
		return sevGood
	}
	return sevInfo
}

type fact struct{ Name, Value string }

// objectView is one object of a message, already truncated; values are already masked.
type objectView struct {
	Name    string
	Secret  bool
	Changes []FieldChange
	Fields  []string // drifted paths without a known change
	More    int      // changes and fields left out
}

// eventView is what every provider shows for one event, before provider formatting.
type eventView struct {
	Kind        Kind
	Title       string
	Message     string
	Facts       []fact
	Objects     []objectView
	MoreObjects int
	Link        string
	LinkText    string
	Time        string
}

// newEventView builds the view of e, which the caller has sanitized.
func newEventView(e Event) eventView {
	v := eventView{Kind: e.Kind, Title: truncate(title(e), maxTitleRunes), Message: truncate(e.Message, maxMessageRunes)}
	if e.Tenant != "" {
		v.Facts = append(v.Facts, fact{"Tenant", e.Tenant})
	}
	if e.Kind == KindDrift {
		action := "detect-only (not corrected)"
		if e.Corrected {
			action = "corrected"
		}
		v.Facts = append(v.Facts, fact{"Action", action})
	}
	if e.Revision != "" {
		v.Facts = append(v.Facts, fact{"Revision", shortRevision(e.Revision)})
	}
	if e.Author != "" {
		v.Facts = append(v.Facts, fact{"Author", truncate(e.Author, maxValueRunes)})
	}
	if line := firstLine(e.CommitMessage); line != "" {
		v.Facts = append(v.Facts, fact{"Commit", truncate(line, maxCommitRunes)})
	}
	for i, o := range e.Objects {
		if i == maxObjects {
			v.MoreObjects = len(e.Objects) - maxObjects
			break
		}
		v.Objects = append(v.Objects, newObjectView(o))
	}
	if link := CommitURL(e.RepoURL, e.Revision); link != "" {
		v.Link = link
		v.LinkText = "View commit " + shortHash(commitHash(e.Revision))
	}
	if !e.Time.IsZero() {
		v.Time = e.Time.UTC().Format(time.RFC3339)
	}
	return v
}

func newObjectView(o ObjectDiff) objectView {
	ov := objectView{Name: o.Object, Secret: IsSecret(o)}
	covered := map[string]bool{}
	total := 0
	for _, c := range o.Changes {
		covered[c.Path] = true
		total++
		if len(ov.Changes) < maxChanges {
			if ov.Secret {
				c.Old, c.New = Mask, Mask
			}
			ov.Changes = append(ov.Changes, FieldChange{Path: c.Path, Old: truncate(c.Old, maxValueRunes), New: truncate(c.New, maxValueRunes)})
		}
	}
	for _, f := range o.Fields {
		if covered[f] {
			continue
		}
		total++
		if len(ov.Changes)+len(ov.Fields) < maxChanges {
			ov.Fields = append(ov.Fields, f)
		}
	}
	ov.More = total - len(ov.Changes) - len(ov.Fields)
	return ov
}

func title(e Event) string {
	t := e.Tenant
	switch e.Kind {
	case KindDrift:
		if e.Corrected {
			return "Drift corrected in tenant " + t
		}
		return "Drift detected in tenant " + t + " (detect-only)"
	case KindFailure:
		return "Tenant " + t + " failed to reconcile"
	case KindStalled:
		return "Tenant " + t + " is stalled"
	case KindRecovered:
		return "Tenant " + t + " recovered"
	case KindPruned:
		return "Tenant " + t + " removed"
	case KindHeldBack:
		if t != "" {
			return "Pruning held back for tenant " + t
		}
		return "Pruning held back"
	}
	if t != "" {
		return fmt.Sprintf("tenantry %s: tenant %s", e.Kind, t)
	}
	return fmt.Sprintf("tenantry %s", e.Kind)
}

// changeText is "path: old → new", values passed through code for the provider's markup.
func changeText(c FieldChange, path, code func(string) string) string {
	old, cur := "(unset)", "(unset)"
	if c.Old != "" {
		old = code(c.Old)
	}
	if c.New != "" {
		cur = code(c.New)
	}
	return path(c.Path) + ": " + old + " → " + cur
}

// summaryView is what every provider shows for a summary.
type summaryView struct {
	Title     string
	Counts    []kindCount
	Tenants   []string
	More      int // tenants left out
	Lines     []summaryLine
	MoreLines int
	Time      string
}

type summaryLine struct {
	Kind    Kind
	Tenant  string
	Message string
}

func newSummaryView(s Summary) summaryView {
	v := summaryView{Title: fmt.Sprintf("%d tenantry events", s.Count), Counts: sortedCounts(s.Counts)}
	v.Tenants = s.Tenants
	if len(v.Tenants) > maxTenants {
		v.More = len(v.Tenants) - maxTenants
		v.Tenants = v.Tenants[:maxTenants]
	}
	for i, e := range s.Events {
		if i == maxSummaryLines {
			v.MoreLines = len(s.Events) - maxSummaryLines
			break
		}
		v.Lines = append(v.Lines, summaryLine{Kind: e.Kind, Tenant: e.Tenant, Message: truncate(firstLine(e.Message), maxValueRunes)})
	}
	if !s.Time.IsZero() {
		v.Time = s.Time.UTC().Format(time.RFC3339)
	}
	return v
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// truncate cuts s to n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// shortRevision shortens the hash of "main@sha1:<hash>", "sha1:<hash>" or "<hash>" to 12.
func shortRevision(rev string) string {
	h := commitHash(rev)
	if h == "" || len(h) <= 12 {
		return rev
	}
	return rev[:len(rev)-len(h)] + h[:12]
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
