// Package localcluster starts a real Kubernetes host cluster as local processes: etcd or
// kine, kube-apiserver, kube-controller-manager, optionally OPA Gatekeeper and a real node
// (containerd, kubelet, kube-proxy, kube-scheduler in a network namespace of its own). It
// is the host of `tenantry dev`, of tenantry-bench and of every test tier (through
// test/framework); it never imports testing.
package localcluster
