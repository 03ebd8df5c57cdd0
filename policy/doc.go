// Package policy ships tenantry's ConstraintTemplates and evaluates them offline with Gatekeeper's engine.
package policy
