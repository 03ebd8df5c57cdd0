package controlplane

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/supervise"
)

// kineSpec runs kine on loopback: SQLite in DataDir, or the external Datastore, whose
// connection string goes in kine's environment (KINE_ENDPOINT), not on its command line.
func (c *Config) kineSpec(port int) supervise.Spec {
	spec := supervise.Spec{
		Name: "kine",
		Path: filepath.Join(c.BinDir, "kine"),
		// kine's default metrics listener (:8080) would take the pod's probe port.
		Args: []string{"--listen-address=127.0.0.1:" + itoa(port), "--metrics-bind-address=0"},
		Env:  []string{"GOGC=" + itoa(helperGOGC)},
	}
	if c.Datastore == "" {
		spec.Args = append(spec.Args, "--endpoint="+wellknown.KineSQLite(filepath.Join(c.DataDir, "kine.db")))
	} else {
		spec.Env = append(spec.Env, "KINE_ENDPOINT="+c.Datastore)
	}
	return spec
}

// waitTCP waits until something accepts connections on addr.
func waitTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	return poll(ctx, 50*time.Millisecond, addr, func() error {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = conn.Close()
		}
		return err
	})
}

// poll calls check every interval until it returns nil or ctx ends, then says what it
// waited for and check's last error.
func poll(ctx context.Context, interval time.Duration, what string, check func() error) error {
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %w)", what, ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}
