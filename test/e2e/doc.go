// Package e2e holds the end-to-end tier: tests that run real containers on a real node.
package e2e
