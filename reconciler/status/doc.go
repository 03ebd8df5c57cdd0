// Package status keeps a tenant's host Tenant: the mirror object, its kstatus conditions, inventory and drift record, written in one status patch per tenant per pass.
package status
