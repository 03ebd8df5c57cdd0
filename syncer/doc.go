// Package syncer copies a virtual cluster's low-level objects into the tenant's host namespace; today it holds the host naming scheme.
package syncer
