package localcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/internal/pki"
)

// NodeName is the name the real node registers under.
const NodeName = "tenantry-node"

// nodeComponent holds kubelet, kube-scheduler and kube-proxy (built on request).
const nodeComponent = "kubernetes-node-v1.37.2"

// node is a real worker: containerd, kubelet and kube-proxy inside a network namespace of
// their own, plus kube-scheduler on the machine.
type node struct {
	dir        string
	ns         *netns
	cgroupRoot string
	procs      []*process
	netpolErr  error // why NetworkPolicy is not enforced, or nil
	metricsErr error // why the host has no metrics.k8s.io, or nil
	// imported is each image tarball's modification time when the node imported it.
	imported map[string]time.Time
}

func (n *node) path(name string) string { return filepath.Join(n.dir, name) }

// NodeAvailable reports why a real node cannot start here, or nil: it needs root, the
// host packages (hack/node-deps.sh) and the node component (hack/components.sh
// kubernetes-node-v1.37.2).
func NodeAvailable() error {
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("not root (the node needs network namespaces, mounts and cgroups)"))
	}
	for _, cmd := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "conntrack", "ip", "nsenter"} {
		if _, err := exec.LookPath(cmd); err != nil {
			errs = append(errs, fmt.Errorf("%s not installed (run hack/node-deps.sh)", cmd))
		}
	}
	if _, err := os.Stat(filepath.Join(cniBinDir, "bridge")); err != nil {
		errs = append(errs, fmt.Errorf("CNI plugins not in %s (run hack/node-deps.sh)", cniBinDir))
	}
	for _, b := range []string{"kubelet", "kube-scheduler", "kube-proxy"} {
		if _, err := binary(nodeComponent, b); err != nil {
			errs = append(errs, fmt.Errorf("%s not built (run `bash hack/components.sh %s`)", b, nodeComponent))
		}
	}
	return errors.Join(errs...)
}

// prepareNode creates the node's network namespace before kube-apiserver starts, so
// kube-apiserver can listen on the host end of its veth.
func (c *Cluster) prepareNode() error {
	if err := NodeAvailable(); err != nil {
		return fmt.Errorf("a real node cannot start here: %w", err)
	}
	ns, err := newNetns()
	if err != nil {
		return err
	}
	c.node = &node{dir: c.path("node"), ns: ns, cgroupRoot: "/" + ns.name, imported: map[string]time.Time{}}
	if err := os.MkdirAll(c.node.dir, 0o700); err != nil {
		return fmt.Errorf("creating node dir: %w", err)
	}
	return c.reissueServingCert(ns.hostAddr())
}

// startNode starts containerd (with the test images), kube-scheduler, the kubelet,
// kube-proxy and the NetworkPolicy enforcer, and waits until the Node is Ready. It
// records each step in c.Phases.
func (c *Cluster) startNode(ctx context.Context, began time.Time) error {
	n := c.node
	mark := func(name string) { c.Phases = append(c.Phases, Phase{name, time.Since(began)}) }
	images, err := buildNodeImages(ctx, n.path("images"))
	if err != nil {
		return err
	}
	mark("node images built")
	if err := n.prepareNamespace(); err != nil {
		return err
	}
	if err := n.writeCNIConfig(); err != nil {
		return err
	}
	if err := n.startContainerd(ctx); err != nil {
		return err
	}
	if err := n.importImages(ctx, images); err != nil {
		return err
	}
	mark("containerd with images")
	if err := n.startScheduler(c); err != nil {
		return err
	}
	if err := n.startKubelet(ctx, c); err != nil {
		return err
	}
	mark("node Ready")
	if err := n.startKubeProxy(c); err != nil {
		return err
	}
	n.startNetworkPolicy(ctx, c)
	if n.netpolErr == nil {
		mark("NetworkPolicy enforcer")
	}
	n.startMetricsServer(ctx, c)
	return nil
}

// prepareNamespace turns on what bridged pods and kube-proxy need inside the namespace.
func (n *node) prepareNamespace() error {
	for _, s := range []string{"net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"} {
		if _, err := n.ns.run("sysctl", "-w", s); err != nil {
			return err
		}
	}
	return nil
}

// stop removes everything the node made: it deletes the node's pods, stops the kubelet
// (so nothing restarts), kills and removes every container, stops containerd and kills
// leftover shims, then unmounts what is left under the node dir and deletes the
// namespace and cgroups. It returns what it could not remove.
func (n *node) stop(cfg *rest.Config) error {
	n.drain(cfg)
	for i := len(n.procs) - 1; i >= 0; i-- {
		if n.procs[i].Name() != "containerd" {
			n.procs[i].Stop(10 * time.Second)
		}
	}
	n.removeContainers()
	for _, p := range n.procs {
		p.Stop(10 * time.Second)
	}
	n.killShims()
	unmountAll(n.dir)
	n.removeNetpol()
	n.ns.delete()
	removeCgroups(n.cgroupRoot)
	removeLogLinks(n.path("pod-logs"))
	return n.leftovers()
}

// reissueServingCert re-signs kube-apiserver's serving certificate for the veth address
// and the kubernetes Service's ClusterIP as well as loopback, so pods can verify it.
func (c *Cluster) reissueServingCert(hostIP net.IP) error {
	kp, err := c.ca.Issue(pki.Serving("kube-apiserver",
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		[]net.IP{net.ParseIP("127.0.0.1"), hostIP, net.ParseIP(kubernetesServiceIP)}), leafValidity)
	if err != nil {
		return err
	}
	return writePair(kp, c.path("apiserver.crt"), c.path("apiserver.key"))
}

// kubernetesServiceIP is the first address of the test bed's service CIDR 10.96.0.0/16.
const kubernetesServiceIP = "10.96.0.1"

// apiserverAddress is where kube-apiserver listens and advertises itself: the host end of
// the node's veth with a node (reachable from its namespace), else loopback.
func (c *Cluster) apiserverAddress() string {
	if c.node != nil {
		return c.node.ns.hostIP
	}
	return "127.0.0.1"
}

// NodeIP is the real node's InternalIP, or "" without a node.
func (c *Cluster) NodeIP() string {
	if c.node == nil {
		return ""
	}
	return c.node.ns.nodeIP
}

// NodeCleanupError is what the last Stop failed to remove of the real node, or nil.
func (c *Cluster) NodeCleanupError() error { return c.nodeCleanupErr }
