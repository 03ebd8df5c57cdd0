package freeport

import (
	"net"
	"strconv"
	"testing"
)

// TestPick: every port is in range, free for TCP and UDP, and never returned twice; a port
// someone else holds is skipped.
func TestPick(t *testing.T) {
	first, err := Pick()
	if err != nil {
		t.Fatal(err)
	}
	// Pick walks the range: the port after first is its next try.
	held, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(Min+(first-Min+1)%(Max-Min+1)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Close() }()
	heldPort := held.Addr().(*net.TCPAddr).Port
	seen := map[int]bool{first: true}
	for range 50 {
		port, err := Pick()
		if err != nil {
			t.Fatal(err)
		}
		if port < Min || port > Max {
			t.Fatalf("port %d outside %d–%d", port, Min, Max)
		}
		if seen[port] || port == heldPort {
			t.Fatalf("port %d returned twice or held", port)
		}
		seen[port] = true
		if err := free(port); err != nil {
			t.Fatalf("port %d is not free: %v", port, err)
		}
	}
}
