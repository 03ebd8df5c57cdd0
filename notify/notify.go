// Package notify carries drift, failure and recovery events from the agent to people.
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
)

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
}

// ObjectDiff names a drifted object and its drifted field paths.
type ObjectDiff struct {
	Object string   `json:"object"`
	Fields []string `json:"fields,omitempty"`
}

// Notifier delivers events. Implementations must not block reconciliation for long.
type Notifier interface {
	Notify(ctx context.Context, e Event) error
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
