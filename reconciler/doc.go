// Package reconciler applies tenants to the host cluster with one server-side apply manager, prunes through inventories, and corrects drift.
package reconciler
