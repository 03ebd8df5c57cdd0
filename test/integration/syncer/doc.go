// Package syncer holds the syncer's integration tests against real host and virtual control planes.
package syncer
