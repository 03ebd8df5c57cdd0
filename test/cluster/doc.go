// Package cluster starts real Kubernetes control planes (etcd or kine, kube-apiserver,
// kube-controller-manager and optionally OPA Gatekeeper) as local processes for tests.
package cluster
