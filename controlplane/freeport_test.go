package controlplane

import (
	"net"
	"testing"
)

// TestFreePortIsOutsideTheEphemeralRange: the port is free and below the range the kernel
// gives outgoing connections, so none of them can take it before the component binds it.
func TestFreePortIsOutsideTheEphemeralRange(t *testing.T) {
	for range 20 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		if port < freePortMin || port > freePortMax || port >= 32768 {
			t.Fatalf("port %d outside %d–%d", port, freePortMin, freePortMax)
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+itoa(port))
		if err != nil {
			t.Fatalf("port %d is not free: %v", port, err)
		}
		_ = l.Close()
	}
}
