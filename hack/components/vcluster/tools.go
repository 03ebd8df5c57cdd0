//go:build tools

// Package tools pins loft-sh vcluster v0.30.0, the benchmark's virtual cluster peer.
package tools

import (
	_ "github.com/loft-sh/vcluster/cmd/vcluster"
)
