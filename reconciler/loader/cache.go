package loader

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Cache remembers each tenant file as parsed and finished with the defaults, by path and
// content, so that a Load over a repo where few files changed parses only those: at
// thousands of tenants, parsing every file was most of a pass that changed one. Every file
// is still read and hashed, so the cache can never serve content the checkout no longer
// has; an entry is kept only while its file is in the repo, and all are dropped when the
// defaults change. Load hands out copies, never the cached values. Safe for concurrent use.
type Cache struct {
	mu       sync.Mutex
	defaults [sha256.Size]byte
	byPath   map[string]cachedFile
}

// cachedFile is a parsed file before the checks across files (markConflicts) add to it.
type cachedFile struct {
	sum      [sha256.Size]byte
	tenant   *v1alpha1.Tenant
	lines    lineIndex
	errs     FieldErrors
	rejected []string
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{byPath: map[string]cachedFile{}} }

// Load is Load with the cache: only files that are new or changed since the last Load
// through c, or all of them when defaults.yaml changed, are parsed.
func (c *Cache) Load(dir string) (*Repo, error) { return load(dir, c) }

// view returns the entries that hold for these defaults; they are read-only.
func (c *Cache) view(defaults *v1alpha1.TenantDefaults) (map[string]cachedFile, [sha256.Size]byte, error) {
	data, err := json.Marshal(defaults)
	if err != nil {
		return nil, [sha256.Size]byte{}, fmt.Errorf("digest of the defaults: %w", err)
	}
	sum := sha256.Sum256(data)
	c.mu.Lock()
	defer c.mu.Unlock()
	if sum != c.defaults {
		return map[string]cachedFile{}, sum, nil
	}
	return c.byPath, sum, nil
}

// keep replaces the entries with those of the files just loaded.
func (c *Cache) keep(defaults [sha256.Size]byte, files map[string]cachedFile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.defaults, c.byPath = defaults, files
}

// remember is the cache entry of a file just parsed; p is not changed later by the
// cache, and the entry shares nothing with it that Load's later steps modify.
func remember(p *parsedTenant, sum [sha256.Size]byte) cachedFile {
	e := cachedFile{sum: sum, lines: p.c.lines, errs: slices.Clone(p.c.errs), rejected: slices.Clone(p.c.rejected)}
	if p.tenant != nil {
		e.tenant = p.tenant.DeepCopy()
	}
	return e
}

// parsed is a new parsedTenant from the entry, as parseAndFinish would return it.
func (e cachedFile) parsed(path string) *parsedTenant {
	c := &collector{file: path, lines: e.lines, errs: slices.Clone(e.errs), rejected: e.rejected}
	p := &parsedTenant{path: path, c: c}
	if e.tenant != nil {
		p.tenant = e.tenant.DeepCopy()
	}
	return p
}
