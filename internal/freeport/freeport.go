// Package freeport picks loopback ports for components that bind them a moment later.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
)

// Min and Max bound the ports Pick returns: below Linux's default ephemeral range
// (32768–60999), from which the kernel gives outgoing connections their local ports, and
// below Kubernetes' NodePort range (30000–32767). A port the kernel handed out (port 0)
// could become an outgoing connection's local port before its component binds it, which
// then fails "address already in use" on every restart (seen in CI: kube-controller-manager).
const Min, Max = 20000, 29999

// slices splits the range by process ID, so that concurrent processes (go test runs
// packages in parallel) start their walks apart and rarely pick the same port between a
// check and a bind.
const slices = 10

var picker = struct {
	sync.Mutex
	next int // the next port to try; 0 before the first Pick
}{}

// Pick returns a loopback port free now for both TCP and UDP (a DNS server needs both).
// It walks the range from a start set by the process ID, so one process never returns a
// port twice until it has gone round the whole range.
func Pick() (int, error) {
	picker.Lock()
	defer picker.Unlock()
	span := Max - Min + 1
	if picker.next == 0 {
		size := span / slices
		picker.next = Min + os.Getpid()%slices*size + rand.IntN(size)
	}
	var err error
	for range span {
		port := picker.next
		picker.next = Min + (port-Min+1)%span
		if err = free(port); err == nil {
			return port, nil
		}
	}
	return 0, fmt.Errorf("finding a free port between %d and %d: %w", Min, Max, err)
}

// free reports whether port can be bound on loopback for TCP and UDP now.
func free(port int) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	_ = l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	return u.Close()
}
