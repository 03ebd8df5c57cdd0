// Package notify carries drift, failure and recovery events from the agent to people.
//
// A Notifier delivers one Event. The providers (Slack incoming webhook, Slack bot via
// chat.postMessage, Microsoft Teams, Discord, Google Chat, a generic JSON webhook and a
// generic webhook signed with HMAC-SHA256) each render the service's own payload shape and
// retry transient errors with exponential backoff. Credentials (webhook URLs, tokens,
// secrets) never appear in their errors.
//
// LoadConfig reads the notification config (providers, routes, dedupInterval,
// batchWindow) and Config.Build turns it into a Router: a Notifier that routes each event
// to providers by kind and tenant glob, drops duplicates, batches bursts into one summary
// per provider and delivers in the background, so Notify never waits on the network.
package notify

import (
	"context"
	"time"
)

// Kind is what happened.
type Kind string

// Event kinds.
const (
	KindDrift     Kind = "drift"
	KindFailure   Kind = "failure"
	KindRecovered Kind = "recovered"
	KindHeldBack  Kind = "heldBack"
	KindPruned    Kind = "pruned"
	KindStalled   Kind = "stalled"
	// KindSummary marks a Summary of several events; it is never the kind of an Event.
	KindSummary Kind = "summary"
)

// eventKinds are the kinds routes may select, in the order summaries list them.
var eventKinds = []Kind{KindDrift, KindFailure, KindStalled, KindRecovered, KindPruned, KindHeldBack}

func knownKind(k Kind) bool {
	for _, want := range eventKinds {
		if k == want {
			return true
		}
	}
	return false
}

// Event is one notification.
type Event struct {
	Kind     Kind         `json:"kind"`
	Tenant   string       `json:"tenant,omitempty"`
	Revision string       `json:"revision,omitempty"`
	Message  string       `json:"message"`
	Objects  []ObjectDiff `json:"objects,omitempty"`
	// Corrected is true when the agent corrected the drift, false in detect-only mode.
	Corrected bool      `json:"corrected"`
	Time      time.Time `json:"time"`
	// Author is the author of the commit at Revision ("Name <email>" or a name).
	Author string `json:"author,omitempty"`
	// CommitMessage is the message of the commit at Revision; providers show its first line.
	CommitMessage string `json:"commitMessage,omitempty"`
	// RepoURL is the tenants repo URL, used for a link to the commit (see CommitURL).
	// Credentials in it are stripped before anything is sent.
	RepoURL string `json:"repoURL,omitempty"`
}

// ObjectDiff names a drifted object and its drifted field paths.
type ObjectDiff struct {
	// Object is "Kind/namespace/name" or "Kind/name".
	Object string   `json:"object"`
	Fields []string `json:"fields,omitempty"`
	// Changes holds the drifted fields with their old (live) and new (desired) values, when known.
	Changes []FieldChange `json:"changes,omitempty"`
	// Secret marks an object whose values must never be shown. Objects named "Secret/..."
	// are treated as secret whether or not it is set.
	Secret bool `json:"secret,omitempty"`
}

// FieldChange is one drifted field: Old is the live value, New the desired one.
type FieldChange struct {
	Path string `json:"path"`
	Old  string `json:"old,omitempty"`
	New  string `json:"new,omitempty"`
}

// Notifier delivers events. Implementations must not block reconciliation for long.
type Notifier interface {
	Notify(ctx context.Context, e Event) error
}

// BatchNotifier is a Notifier that can also deliver one summary message standing for
// several events. The Router uses it when a burst of events reaches one provider.
type BatchNotifier interface {
	Notifier
	NotifySummary(ctx context.Context, s Summary) error
}

// Nop drops every event.
type Nop struct{}

// Notify implements Notifier.
func (Nop) Notify(context.Context, Event) error { return nil }

// Multi fans an event out to several notifiers.
type Multi []Notifier

// Notify implements Notifier; it returns the first error after trying all.
func (m Multi) Notify(ctx context.Context, e Event) error {
	var first error
	for _, n := range m {
		if err := n.Notify(ctx, e); err != nil && first == nil {
			first = err
		}
	}
	return first
}
