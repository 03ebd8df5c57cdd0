//go:build tools

// Package tools pins the Flux controllers the benchmark runs as a peer.
package tools

import (
	_ "github.com/fluxcd/kustomize-controller"
	_ "github.com/fluxcd/source-controller"
)
