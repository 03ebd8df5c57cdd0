package loader

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxFileSize bounds every file the loader reads.
const maxFileSize = 1 << 20

var errNotRegular = errors.New("not a regular file (symlinks are not followed)")

// readRepoFile reads the file rel (slash-separated) of the repo at root. Only regular
// files are read, so that a symlink in the repo cannot expose a file of the agent's host.
func readRepoFile(root, rel string) ([]byte, error) {
	full := filepath.Join(root, filepath.FromSlash(rel))
	info, err := os.Lstat(full)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, errNotRegular
	}
	data, err := readLimited(full)
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file too large (the limit is %d bytes)", maxFileSize)
	}
	return data, nil
}

// readLimited reads at most maxFileSize+1 bytes of a file.
func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	return data, errors.Join(err, f.Close())
}

// yamlFiles lists the YAML files (*.yaml, *.yml, not hidden) directly in the repo's
// directory rel, sorted by name, as slash-separated repo paths.
func yamlFiles(root, rel string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if isYAMLFile(e.Name()) && !e.IsDir() {
			files = append(files, path.Join(rel, e.Name()))
		}
	}
	return files, nil
}

func isYAMLFile(name string) bool {
	ext := path.Ext(name)
	return !strings.HasPrefix(name, ".") && (ext == ".yaml" || ext == ".yml")
}
