package controlplane

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// controllersStartedCheck is a controller kube-controller-manager registers a health check
// for. It adds every controller's check at once, after it has built them all, so while
// this one is missing from /healthz?verbose the controllers are still starting: a
// Deployment would sit with no ReplicaSet.
const controllersStartedCheck = "[+]replicaset-controller ok"

// controllersStarted returns nil once kube-controller-manager on the loopback port reports
// its controllers started.
func controllersStarted(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://127.0.0.1:"+itoa(port)+"/healthz?verbose", nil)
	if err != nil {
		return err
	}
	// Its serving certificate is self-signed in memory; the probe sends no credential and
	// reads only a public health endpoint on loopback.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // see above
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("kube-controller-manager /healthz: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("kube-controller-manager /healthz: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), controllersStartedCheck) {
		return fmt.Errorf("kube-controller-manager's controllers are starting (/healthz %d)", resp.StatusCode)
	}
	return nil
}

// waitControllersStarted polls controllersStarted until it answers or ctx ends.
func waitControllersStarted(ctx context.Context, port int) error {
	return poll(ctx, 100*time.Millisecond, "kube-controller-manager's controllers", func() error { return controllersStarted(ctx, port) })
}
