// Package syncer copies a virtual cluster's low-level objects into the tenant's host namespace, each built from its kind's field allow-list (a refused object gets a SyncError event and its host copy, if any, is left as it was), and their status back.
package syncer
