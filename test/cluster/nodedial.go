package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// DialNode connects to addr from inside the real node's network namespace, where pod IPs
// and (through kube-proxy) ClusterIPs answer, as a port-forward would. It fits
// rest.Config.Dial.
func (c *Cluster) DialNode(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.node == nil {
		return nil, errors.New("the cluster has no node")
	}
	return c.node.ns.dial(ctx, network, addr)
}

// dial creates the socket on an OS thread moved into the namespace: a socket stays in the
// namespace it was created in. The thread is locked and never unlocked, so the runtime
// discards it when the goroutine ends instead of reusing it in the wrong namespace.
func (n *netns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + n.name)
		if err != nil {
			ch <- result{err: fmt.Errorf("opening netns %s: %w", n.name, err)}
			return
		}
		defer func() { _ = f.Close() }()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("entering netns %s: %w", n.name, err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		ch <- result{conn, err}
	}()
	r := <-ch
	return r.conn, r.err
}
