package localcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/tenantry/tenantry/internal/image"
)

// EchoImage is the e2e workload: `echo serve` answers HTTP on :8080, `echo get URL...`
// resolves and fetches URLs (hack/images/echo).
const EchoImage = "tenantry.test/echo:e2e"

// ToolboxImage is Debian's static busybox (package busybox-static, which hack/node-deps.sh
// installs) with the applets a tenant's `kubectl exec` and `kubectl cp` use linked in
// /bin, a writable /tmp, and `sleep infinity` as its command.
const ToolboxImage = "tenantry.test/toolbox:e2e"

// busybox is where busybox-static installs the binary.
const busybox = "/bin/busybox"

var toolboxApplets = []string{"cat", "echo", "env", "false", "head", "id", "ls", "sh", "sleep", "stty", "tar", "true", "tty", "wc", "yes"}

// buildNodeImages builds the pause and echo images as tarballs in dir, and returns them
// with any image tarball `make images` left in bin/images.
func buildNodeImages(ctx context.Context, dir string) ([]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	specs := []struct{ ref, pkg, user string }{
		{PauseImage, "pause", "65535"},
		{EchoImage, "echo", strconv.Itoa(image.NonRoot)},
	}
	var out []string
	for _, s := range specs {
		bin := filepath.Join(dir, s.pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-gcflags=all=-dwarf=false", "-ldflags=-s -w", "-o", bin, "./hack/images/"+s.pkg)
		cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building hack/images/%s: %w: %s", s.pkg, err, b)
		}
		img, err := image.Build(image.Spec{Ref: s.ref, User: s.user, Entrypoint: []string{"/" + s.pkg},
			Files: []image.File{{Path: s.pkg, Source: bin, Mode: 0o755}}})
		if err != nil {
			return nil, err
		}
		tar := filepath.Join(dir, s.pkg+".tar")
		if err := image.WriteTarball(tar, s.ref, img); err != nil {
			return nil, err
		}
		out = append(out, tar)
	}
	toolbox, err := buildToolbox(dir)
	if err != nil {
		return nil, err
	}
	out = append(out, toolbox)
	built, _ := filepath.Glob(filepath.Join(root, "bin", "images", "*.tar"))
	return append(out, built...), nil
}

// buildToolbox writes ToolboxImage's tarball in dir.
func buildToolbox(dir string) (string, error) {
	files := []image.File{{Path: "bin/busybox", Source: busybox, Mode: 0o755}, {Path: "tmp", Dir: true, Mode: 0o1777}}
	for _, a := range toolboxApplets {
		files = append(files, image.File{Path: "bin/" + a, Link: "busybox"})
	}
	img, err := image.Build(image.Spec{Ref: ToolboxImage, User: strconv.Itoa(image.NonRoot), Files: files,
		Env: []string{"PATH=/bin"}, Cmd: []string{"sleep", "infinity"}})
	if err != nil {
		return "", fmt.Errorf("toolbox image (needs %s from busybox-static): %w", busybox, err)
	}
	tar := filepath.Join(dir, "toolbox.tar")
	return tar, image.WriteTarball(tar, ToolboxImage, img)
}

// repoRoot is the first directory above the working directory holding hack/components.sh.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "components.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no repository root above the working directory")
		}
		dir = parent
	}
}

// ImportImage loads one image tarball into the node's containerd after start: an image
// the node does not import from bin/images (the benchmark's vcluster peer, ~300 MB, which
// the e2e tier never needs).
func (c *Cluster) ImportImage(ctx context.Context, path string) error {
	if c.node == nil {
		return fmt.Errorf("importing %s: the cluster has no node", filepath.Base(path))
	}
	return c.node.importImages(ctx, []string{path})
}
