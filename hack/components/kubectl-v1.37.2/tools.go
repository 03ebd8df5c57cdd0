//go:build tools

// Package tools pins the kubectl built from this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kubectl"
)
