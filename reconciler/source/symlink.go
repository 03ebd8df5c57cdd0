package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrUnsafeSymlink is returned when the repo holds a symlink that resolves
// outside the checkout (or not at all): following it while applying the
// tenants could read files of the agent, such as its service account token.
var ErrUnsafeSymlink = errors.New("symlink escapes the checkout")

// checkSymlinks fails on the first symlink under root whose target, fully
// resolved, is not inside root.
func checkSymlinks(root string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolve checkout dir: %w", err)
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		target, err := filepath.EvalSymlinks(path)
		if err != nil || !within(realRoot, target) {
			link, _ := os.Readlink(path)
			return fmt.Errorf("%w: %s -> %s", ErrUnsafeSymlink, rel, link)
		}
		return nil
	})
}

func within(root, path string) bool {
	return path == root || strings.HasPrefix(path, root+string(filepath.Separator))
}
