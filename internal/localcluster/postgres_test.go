package localcluster

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestStartPostgres starts the test bed's Postgres on loopback (its role and database made)
// and connects to it.
func TestStartPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := StartPostgres(ctx, "127.0.0.1", "kine", "pw-123")
	if errors.Is(err, ErrNoPostgres) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	c, err := net.DialTimeout("tcp", p.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if got := p.URL("kine", "pw-123"); got != "postgres://kine:pw-123@"+p.Addr+"/kine?sslmode=disable" {
		t.Fatalf("URL %q", got)
	}
}
