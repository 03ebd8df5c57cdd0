// Package loader reads and validates a tenants repo: tenant files, defaults and policies.
package loader
