package localcluster

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

// dial creates the socket on an OS thread moved into the namespace (a socket stays in the
// namespace it was created in), then moves the thread back before unlocking it. The thread
// must not die: processes the test bed started from it get Pdeathsig when it does. Only if
// the way back fails is the thread left locked, so the runtime discards it.
func (n *netns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		back, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: fmt.Errorf("opening this thread's netns: %w", err)}
			return
		}
		defer func() { _ = back.Close() }()
		conn, err := n.dialInside(ctx, network, addr)
		ch <- result{conn, err}
		if unix.Setns(int(back.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	r := <-ch
	return r.conn, r.err
}

// dialInside enters the namespace on the current (locked) thread and dials.
func (n *netns) dialInside(ctx context.Context, network, addr string) (net.Conn, error) {
	f, err := os.Open("/run/netns/" + n.name)
	if err != nil {
		return nil, fmt.Errorf("opening netns %s: %w", n.name, err)
	}
	defer func() { _ = f.Close() }()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("entering netns %s: %w", n.name, err)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
