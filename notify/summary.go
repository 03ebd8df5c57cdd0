package notify

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Summary is one message standing for several events that reached a provider within
// one batch window.
type Summary struct {
	// Kind is always KindSummary.
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`
	Count   int    `json:"count"`
	// Counts is the number of events per kind.
	Counts map[Kind]int `json:"counts"`
	// Tenants are the distinct tenants named by the events, sorted.
	Tenants []string  `json:"tenants,omitempty"`
	Events  []Event   `json:"events"`
	Time    time.Time `json:"time"`
}

// NewSummary summarizes events (sanitized copies) at time now.
func NewSummary(events []Event, now time.Time) Summary {
	s := Summary{Kind: KindSummary, Count: len(events), Counts: map[Kind]int{}, Time: now.UTC()}
	seen := map[string]bool{}
	for _, e := range events {
		s.Events = append(s.Events, Sanitize(e))
		s.Counts[e.Kind]++
		if e.Tenant != "" && !seen[e.Tenant] {
			seen[e.Tenant] = true
			s.Tenants = append(s.Tenants, e.Tenant)
		}
	}
	sort.Strings(s.Tenants)
	s.Message = fmt.Sprintf("%d events: %s", s.Count, countsText(s.Counts))
	return s
}

type kindCount struct {
	Kind Kind
	N    int
}

// sortedCounts lists counts in the fixed kind order, then unknown kinds alphabetically.
func sortedCounts(counts map[Kind]int) []kindCount {
	var out []kindCount
	for _, k := range eventKinds {
		if n := counts[k]; n > 0 {
			out = append(out, kindCount{k, n})
		}
	}
	var other []kindCount
	for k, n := range counts {
		if !knownKind(k) && n > 0 {
			other = append(other, kindCount{k, n})
		}
	}
	sort.Slice(other, func(i, j int) bool { return other[i].Kind < other[j].Kind })
	return append(out, other...)
}

// countsText is "7 drift, 3 failure".
func countsText(counts map[Kind]int) string {
	var parts []string
	for _, c := range sortedCounts(counts) {
		parts = append(parts, fmt.Sprintf("%d %s", c.N, c.Kind))
	}
	return strings.Join(parts, ", ")
}
