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
	built, _ := filepath.Glob(filepath.Join(root, "bin", "images", "*.tar"))
	return append(out, built...), nil
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
