//go:build tools

// Package tools pins the Flux controller the benchmark runs as a peer.
package tools

import (
	_ "github.com/fluxcd/kustomize-controller"
)
