// Package apply writes a tenant's plan to the host cluster with one server-side apply manager and a stable field manager: staged apply, pruning and orphaning, drift diffs and corrections, and health waits.
package apply
