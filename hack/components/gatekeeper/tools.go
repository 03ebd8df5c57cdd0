//go:build tools

// Package tools pins the Gatekeeper command built from this module.
package tools

import _ "github.com/open-policy-agent/gatekeeper/v3"
