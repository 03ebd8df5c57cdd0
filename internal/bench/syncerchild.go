package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tenantry/tenantry/controlplane"
	"github.com/tenantry/tenantry/internal/supervise"
	"github.com/tenantry/tenantry/syncer"
)

// syncerChildConfig is what the bench hands the syncer's own process, as a JSON file.
type syncerChildConfig struct {
	VirtualKubeconfig string `json:"virtualKubeconfig"`
	HostKubeconfig    string `json:"hostKubeconfig"`
	Name              string `json:"name"`
	HostNamespace     string `json:"hostNamespace"`
	VirtualCA         []byte `json:"virtualCA"`
	// HostQPS and HostBurst are the host client's rate limit; 0 is tenantry-vcluster's own
	// (controlplane.HostRateLimit).
	HostQPS   float32 `json:"hostQPS"`
	HostBurst int     `json:"hostBurst"`
}

// RunSyncerChild is the child-process side of a syncer run: it runs the syncer as
// tenantry-vcluster does, from the config file at path, until ctx ends.
func RunSyncerChild(ctx context.Context, path string, log io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the syncer run's config: %w", err)
	}
	var c syncerChildConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	virtual, err := clientcmd.BuildConfigFromFlags("", c.VirtualKubeconfig)
	if err != nil {
		return fmt.Errorf("virtual kubeconfig: %w", err)
	}
	virtual.QPS, virtual.Burst = 100, 200 // as controlplane's loopback config
	host, err := clientcmd.BuildConfigFromFlags("", c.HostKubeconfig)
	if err != nil {
		return fmt.Errorf("host kubeconfig: %w", err)
	}
	host.QPS, host.Burst = c.HostQPS, c.HostBurst
	controlplane.HostRateLimit(host) // what tenantry-vcluster does, unless -syncer-host-qps set one
	ctx = logr.NewContext(ctx, zap.New(zap.WriteTo(log)))
	err = syncer.Run(ctx, syncer.Config{Virtual: virtual, Host: host, Name: c.Name, HostNamespace: c.HostNamespace,
		ServiceHost: "10.96.0.1", ServicePort: 443, DNSServer: "10.96.0.10", VirtualCA: c.VirtualCA})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// syncerChild is the syncer running in its own process, so its CPU and RSS are its own.
type syncerChild struct {
	proc    *supervise.Process
	logPath string
}

// startSyncerChild starts `tenantry-bench -syncer-run cfgPath`, its output in logPath.
func startSyncerChild(cfgPath, logPath string) (*syncerChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the bench binary: %w", err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating the syncer's log: %w", err)
	}
	p, err := supervise.Start(supervise.Spec{Name: "syncer", Path: self, Args: []string{"-syncer-run", cfgPath}}, logf)
	if err != nil {
		return nil, err
	}
	return &syncerChild{proc: p, logPath: logPath}, nil
}

func (c *syncerChild) pid() int { return c.proc.Pid() }

// alive returns an error, with the end of the syncer's log, once the process has exited.
func (c *syncerChild) alive() error {
	if done, err := c.proc.Exited(); done {
		return fmt.Errorf("the syncer exited (%w); its log: %s", err, tailFile(c.logPath, 2000))
	}
	return nil
}

// stop sends SIGTERM and waits up to 30 s, then kills.
func (c *syncerChild) stop() error {
	const grace = 30 * time.Second
	start := time.Now()
	c.proc.Stop(grace)
	_, err := c.proc.Exited()
	if time.Since(start) >= grace {
		return errors.New("the syncer did not stop within 30 s of SIGTERM")
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return err
	}
	if exit != nil && !exit.Exited() {
		return nil // ended by the signal
	}
	return err
}

// tailFile is the last n bytes of a file, for error messages.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}
