// Package types holds the small interfaces a synced kind implements, one per direction.
package types

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/synccontext"
)

// Syncer names a kind synced between a virtual object and the host object named after it.
type Syncer interface {
	// Kind is the object kind, recorded in the host object's AnnotationKind.
	Kind() string
	// New returns an empty object of the kind (the same type on both sides).
	New() client.Object
}

// ToHost copies a virtual object to the host.
type ToHost interface {
	Syncer
	// SyncToHost creates (hObj == nil) or updates the host object of vObj.
	SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error
}

// FromHost copies a host object's state (status, assigned fields) back to its virtual object.
type FromHost interface {
	Syncer
	SyncFromHost(ctx context.Context, sc *synccontext.Context, hObj, vObj client.Object) error
}

// Filter decides whether a virtual object is synced at all; when it is not, its host
// object is removed.
type Filter interface {
	Wanted(ctx context.Context, sc *synccontext.Context, vObj client.Object) (bool, error)
}

// Terminator handles a virtual object being deleted (deletionTimestamp set) before it
// is gone, as a kubelet does for pods.
type Terminator interface {
	Terminate(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error
}

// Watcher adds watches that enqueue virtual keys of the kind (e.g. pods for configmaps).
type Watcher interface {
	Watch(b *builder.Builder, sc *synccontext.Context) *builder.Builder
}

// Indexer registers field indexes on the virtual cache before controllers start.
type Indexer interface {
	Index(ctx context.Context, idx client.FieldIndexer) error
}

// HostIndexer registers field indexes on the host cache before controllers start.
type HostIndexer interface {
	IndexHost(ctx context.Context, idx client.FieldIndexer) error
}

// Requeuer asks for another sync of an object later although nothing changes, e.g. to
// refresh a pod's expiring token: after a successful sync, the object is synced again
// after the returned duration (zero: not until something changes).
type Requeuer interface {
	RequeueAfter(ctx context.Context, sc *synccontext.Context, vObj client.Object) (time.Duration, error)
}
