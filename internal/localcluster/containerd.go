package localcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// PauseImage is the sandbox image the node's containerd uses, built locally.
const PauseImage = "tenantry.test/pause:e2e"

// containerdConfig is containerd's config (version 2): root, state and sockets under the
// node dir; the CRI plugin with our pause image, runc on cgroupfs, overlayfs and our CNI
// config. restrict_oom_score_adj: without CAP_SYS_RESOURCE every sandbox fails otherwise.
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %[3]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[7]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[5]q
    conf_dir = %[6]q
`

// startContainerd writes the config and starts containerd inside the node's namespace.
func (n *node) startContainerd(ctx context.Context) error {
	cfg := fmt.Sprintf(containerdConfig, n.path("containerd/root"), n.path("containerd/state"),
		n.socket(), PauseImage, cniBinDir, n.path("cni/conf"), n.path("containerd/runc"))
	if err := os.WriteFile(n.path("containerd.toml"), []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("writing containerd config: %w", err)
	}
	name, args := n.ns.exec("containerd", "--config", n.path("containerd.toml"))
	p, err := startProcess("containerd", n.dir, name, args)
	if err != nil {
		return err
	}
	n.procs = append(n.procs, p)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return waitFor(ctx, p, "containerd's socket", func(ctx context.Context) error {
		_, err := n.ctr(ctx, "version")
		return err
	})
}

// socket is containerd's grpc socket (unix socket paths are short: keep the dir short).
func (n *node) socket() string { return n.path("containerd.sock") }

// ctr runs `ctr` against the node's containerd in the k8s.io namespace.
func (n *node) ctr(ctx context.Context, args ...string) (string, error) {
	full := append([]string{"-a", n.socket(), "-n", "k8s.io"}, args...)
	out, err := exec.CommandContext(ctx, "ctr", full...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// importImages loads image tarballs into containerd.
func (n *node) importImages(ctx context.Context, paths []string) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("importing %s: %w", filepath.Base(p), err)
		}
		if _, err := n.ctr(ctx, "images", "import", p); err != nil {
			return fmt.Errorf("importing %s: %w", filepath.Base(p), err)
		}
		n.imported[p] = fi.ModTime()
	}
	return nil
}

// removeContainers kills every task and removes every container of the node's containerd,
// so no shim outlives it. Errors are ignored: this is best-effort clean-up.
func (n *node) removeContainers() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := n.ctr(ctx, "containers", "list", "-q")
	if err != nil {
		return
	}
	for _, id := range strings.Fields(out) {
		_, _ = n.ctr(ctx, "tasks", "kill", "-s", "SIGKILL", id)
	}
	for _, id := range strings.Fields(out) {
		for range 20 {
			if _, err := n.ctr(ctx, "tasks", "delete", "-f", id); err == nil || strings.Contains(err.Error(), "not found") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_, _ = n.ctr(ctx, "containers", "delete", id)
	}
	removeCNICache(strings.Fields(out))
}
