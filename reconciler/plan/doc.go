// Package plan makes a pass's decisions once, into a value: per tenant what is applied and how, what is refused, pruned or orphaned, and which tenants leave; Sync carries the value out and tenantry diff prints it.
package plan
