//go:build tools

// Package tools pins the kine command built from this module.
package tools

import _ "github.com/k3s-io/kine"
