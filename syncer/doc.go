// Package syncer copies a virtual cluster's low-level objects into the tenant's host namespace and their status back.
package syncer
