package localcluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"os/exec"
	"strings"
)

// netns is the node's network namespace, joined to the machine by a veth pair on a /30:
// the host end carries the apiserver's address, the node end the node's InternalIP.
// The node's bridge, pod routes and iptables rules live only inside it.
type netns struct {
	name           string
	hostIf, nodeIf string
	hostIP, nodeIP string
}

// newNetns creates a uniquely named namespace and its veth pair.
func newNetns() (*netns, error) {
	id := make([]byte, 3)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("naming the node netns: %w", err)
	}
	suffix := hex.EncodeToString(id)
	hostIP, nodeIP, err := freeSubnet()
	if err != nil {
		return nil, err
	}
	n := &netns{
		name: "tenantry-" + suffix, hostIf: "tnt" + suffix + "h", nodeIf: "tnt" + suffix + "n",
		hostIP: hostIP, nodeIP: nodeIP,
	}
	steps := [][]string{
		{"netns", "add", n.name},
		{"link", "add", n.hostIf, "type", "veth", "peer", "name", n.nodeIf, "netns", n.name},
		{"addr", "add", n.hostIP + "/30", "dev", n.hostIf},
		{"link", "set", n.hostIf, "up"},
		{"-n", n.name, "addr", "add", n.nodeIP + "/30", "dev", n.nodeIf},
		{"-n", n.name, "link", "set", n.nodeIf, "up"},
		{"-n", n.name, "link", "set", "lo", "up"},
		{"-n", n.name, "route", "add", "default", "via", n.hostIP},
	}
	for _, args := range steps {
		if err := ip(args...); err != nil {
			n.delete()
			return nil, err
		}
	}
	return n, nil
}

// freeSubnet picks a 10.250.x.y/30 no interface of the machine uses and returns its two
// usable addresses.
func freeSubnet() (hostIP, nodeIP string, err error) {
	out, err := exec.Command("ip", "-o", "-4", "addr").CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("listing addresses: %w: %s", err, out)
	}
	for range 32 {
		x, err := rand.Int(rand.Reader, big.NewInt(256*64))
		if err != nil {
			return "", "", fmt.Errorf("picking a subnet: %w", err)
		}
		third, fourth := x.Int64()/64, x.Int64()%64*4
		if !subnetUsed(string(out), third, fourth) {
			return fmt.Sprintf("10.250.%d.%d", third, fourth+1), fmt.Sprintf("10.250.%d.%d", third, fourth+2), nil
		}
	}
	return "", "", fmt.Errorf("no free 10.250.0.0/16 subnet for the node")
}

func subnetUsed(addrs string, third, fourth int64) bool {
	for i := range int64(4) {
		if strings.Contains(addrs, fmt.Sprintf("inet 10.250.%d.%d/", third, fourth+i)) {
			return true
		}
	}
	return false
}

// exec wraps a command so it runs inside the namespace (network only: the mount
// namespace stays shared, so kubelet's volume mounts are visible to containerd).
func (n *netns) exec(bin string, args ...string) (string, []string) {
	return "nsenter", append([]string{"--net=/run/netns/" + n.name, "--", bin}, args...)
}

// run runs a command inside the namespace and returns its combined output.
func (n *netns) run(bin string, args ...string) (string, error) {
	name, full := n.exec(bin, args...)
	out, err := exec.Command(name, full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in netns %s: %w: %s", bin, strings.Join(args, " "), n.name, err, out)
	}
	return string(out), nil
}

// delete removes the namespace; its veth pair, bridge, routes and iptables rules go with it
// once no process is left inside.
func (n *netns) delete() {
	_ = ip("link", "del", n.hostIf)
	_ = ip("netns", "del", n.name)
}

// hostAddr parses the host end's address.
func (n *netns) hostAddr() net.IP { return net.ParseIP(n.hostIP) }

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
