package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// netpolComponent is the NetworkPolicy enforcer (sigs.k8s.io/kube-network-policies, built
// on request by `bash hack/components.sh kube-network-policies`): the bridge CNI enforces none.
const netpolComponent = "kube-network-policies"

// netpolTable is the nftables table (family inet) the enforcer keeps in the node's netns.
const netpolTable = "kube-network-policies"

// netpolQueue is the nfqueue the enforcer reads new pod connections from.
const netpolQueue = 100

// netpolPort is where the enforcer serves /metrics and /networkpolicies on the node's IP.
const netpolPort = 9080

// ErrNoNetworkPolicyEnforcer marks a node that runs without its NetworkPolicy enforcer
// because a piece is missing here (not because the enforcer failed).
var ErrNoNetworkPolicyEnforcer = errors.New("the node does not enforce NetworkPolicy (the bridge CNI has no enforcer)")

// netpolAvailable reports what the enforcer lacks here, wrapping ErrNoNetworkPolicyEnforcer.
func netpolAvailable() error {
	var missing []string
	if _, err := binary(netpolComponent, netpolComponent); err != nil {
		missing = append(missing, fmt.Sprintf("%s not built (run `bash hack/components.sh %s`)", netpolComponent, netpolComponent))
	}
	if _, err := exec.LookPath("nft"); err != nil {
		missing = append(missing, "nft not installed (run hack/node-deps.sh)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrNoNetworkPolicyEnforcer, strings.Join(missing, "; "))
	}
	return nil
}

// startNetworkPolicy starts the enforcer inside the node's namespace, waits until its
// nfqueue is bound and, if the kernel refused its nftables table, steers pod traffic to
// the queue with iptables. A missing piece or a failed start does not fail the node: it
// is recorded in n.netpolErr for NetworkPolicyError.
func (n *node) startNetworkPolicy(ctx context.Context, c *Cluster) {
	if n.netpolErr = netpolAvailable(); n.netpolErr != nil {
		return
	}
	p, err := n.runNetworkPolicy(c)
	if err != nil {
		n.netpolErr = err
		return
	}
	n.procs = append(n.procs, p)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = waitFor(ctx, p, "the NetworkPolicy enforcer's nfqueue", n.netpolQueueBound)
	if err == nil && !n.hasNetpolTable() {
		err = n.steerToNetpolQueue()
	}
	if err != nil {
		p.Stop(10 * time.Second)
		n.removeNetpol()
		n.netpolErr = fmt.Errorf("%s did not start: %w\n%s", netpolComponent, err, p.tail(20))
	}
}

// runNetworkPolicy starts the enforcer process with a kubeconfig of its own.
func (n *node) runNetworkPolicy(c *Cluster) (*process, error) {
	bin, err := binary(netpolComponent, netpolComponent)
	if err != nil {
		return nil, err
	}
	// The test bed's own component: an admin identity spares a ClusterRole for its reads.
	kubeconfig, err := c.kubeconfigFor("system:kube-network-policies", "kube-network-policies.kubeconfig", "system:masters")
	if err != nil {
		return nil, err
	}
	name, args := n.ns.exec(bin, "--kubeconfig="+kubeconfig, "--hostname-override="+NodeName,
		"--nfqueue-id="+strconv.Itoa(netpolQueue), "--metrics-bind-address="+n.netpolAddr(), "--v=1")
	return startProcess(netpolComponent, n.dir, name, args)
}

func (n *node) netpolAddr() string { return n.ns.nodeIP + ":" + strconv.Itoa(netpolPort) }

// netpolQueueBound checks, inside the node's namespace, that a listener is bound to the
// enforcer's queue (else queued packets would be dropped).
func (n *node) netpolQueueBound(context.Context) error {
	out, err := n.ns.run("cat", "/proc/net/netfilter/nfnetlink_queue")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == strconv.Itoa(netpolQueue) {
			return nil
		}
	}
	return fmt.Errorf("nfqueue %d not bound yet: %w", netpolQueue, errNotReady)
}

// hasNetpolTable reports whether the enforcer's own nftables rules are in place. A kernel
// without nft_queue (CONFIG_NFT_QUEUE) refuses the whole table.
func (n *node) hasNetpolTable() bool {
	_, err := n.ns.run("nft", "list", "table", "inet", netpolTable)
	return err == nil
}

// netpolChain is the iptables chain that steers pod traffic to the enforcer's queue.
const netpolChain = "TENANTRY-NETPOL"

// steerToNetpolQueue does with iptables' NFQUEUE target (xt_NFQUEUE) what the enforcer's
// own nftables chain does where the kernel has nft_queue: it queues each new connection
// from or to a pod, after DNAT and before SNAT, except DNS and root's own (kubelet probes).
// Unlike the enforcer it queues every pod, not only those a policy selects; the enforcer
// accepts the rest.
func (n *node) steerToNetpolQueue() error {
	q := strconv.Itoa(netpolQueue)
	rules := [][]string{
		{"-N", netpolChain},
		{"-A", netpolChain, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN"},
		{"-A", netpolChain, "-p", "udp", "--dport", "53", "-j", "RETURN"},
		{"-A", netpolChain, "-m", "owner", "--uid-owner", "0", "-j", "RETURN"},
		{"-A", netpolChain, "-s", PodCIDR, "-j", "NFQUEUE", "--queue-num", q},
		{"-A", netpolChain, "-d", PodCIDR, "-j", "NFQUEUE", "--queue-num", q},
		{"-A", "POSTROUTING", "-j", netpolChain},
	}
	for _, r := range rules {
		if _, err := n.ns.run("iptables", append([]string{"-w", "-t", "mangle"}, r...)...); err != nil {
			return fmt.Errorf("steering pod traffic to nfqueue %s: %w", q, err)
		}
	}
	return nil
}

// removeNetpol removes the enforcer's table and the steering chain, should the enforcer
// have died first: until then pod traffic is queued to a queue nobody reads. Deleting the
// namespace removes both in any case.
func (n *node) removeNetpol() {
	_, _ = n.ns.run("nft", "delete", "table", "inet", netpolTable)
	_, _ = n.ns.run("iptables", "-w", "-t", "mangle", "-D", "POSTROUTING", "-j", netpolChain)
	_, _ = n.ns.run("iptables", "-w", "-t", "mangle", "-F", netpolChain)
	_, _ = n.ns.run("iptables", "-w", "-t", "mangle", "-X", netpolChain)
}

// NetworkPolicyError is why the real node does not enforce NetworkPolicy, or nil when its
// enforcer runs. A missing piece wraps ErrNoNetworkPolicyEnforcer; anything else is a failure.
func (c *Cluster) NetworkPolicyError() error {
	if c.node == nil {
		return fmt.Errorf("%w: the cluster has no node", ErrNoNetworkPolicyEnforcer)
	}
	return c.node.netpolErr
}

// NetworkPolicySeen reports whether the enforcer's informer holds the NetworkPolicy
// namespace/name, so it decides new connections by it.
func (c *Cluster) NetworkPolicySeen(ctx context.Context, namespace, name string) (bool, error) {
	if err := c.NetworkPolicyError(); err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.node.netpolAddr()+"/networkpolicies", nil)
	if err != nil {
		return false, fmt.Errorf("asking the enforcer: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, fmt.Errorf("asking the enforcer: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, fmt.Errorf("asking the enforcer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("asking the enforcer: %s: %s", resp.Status, body)
	}
	return slices.Contains(strings.Fields(string(body)), namespace+"/"+name), nil
}

// netpolLeftover reports the enforcer's table or steering chain if still in the node's
// namespace (only possible when the namespace itself could not be deleted).
func (n *node) netpolLeftover() string {
	if n.hasNetpolTable() {
		return "nftables table inet " + netpolTable
	}
	if _, err := n.ns.run("iptables", "-w", "-t", "mangle", "-S", netpolChain); err == nil {
		return "iptables chain mangle " + netpolChain
	}
	return ""
}
