package loader

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"sync"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// Paths in a tenants repo.
const (
	// TenantsDir holds one file per tenant, tenants/<name>.yaml.
	TenantsDir = "tenants"
	// PoliciesDir holds the admins' ConstraintTemplates.
	PoliciesDir = "policies"
	// MetaPoliciesDir holds ConstraintTemplates and Constraints that `tenantry validate`
	// evaluates against the Tenant objects themselves; they are never applied to a cluster.
	MetaPoliciesDir = "policies/meta"
	// DefaultsFile is the optional TenantDefaults.
	DefaultsFile = "defaults.yaml"
)

// Repo is a loaded tenants repo.
type Repo struct {
	// Tenants are the valid tenants, sorted by name, defaults applied, each with
	// Status.SourcePath set to its file ("tenants/<file>").
	Tenants []*v1alpha1.Tenant
	// Failed are the tenant files that did not validate, sorted by path.
	Failed []FailedTenant
	// Defaults is defaults.yaml, nil when the repo has none.
	Defaults *v1alpha1.TenantDefaults
	// Policies are the files of policies/, unparsed, sorted by path.
	Policies []Document
	// MetaPolicies are the files of policies/meta/, unparsed, sorted by path.
	MetaPolicies []Document
	// Files is the number of tenant files seen, valid or not.
	Files int
}

// FailedTenant is a tenant file that did not validate.
type FailedTenant struct {
	// Name is the tenant's name, taken from the file name.
	Name string
	// Path is the file's path in the repo.
	Path string
	// Errors are all the problems found in the file.
	Errors FieldErrors
}

// Document is a repo file, unparsed.
type Document struct {
	// Path is the file's path in the repo, e.g. "policies/block-nodeport.yaml".
	Path string
	Data []byte
}

// Load reads the tenants repo checked out at dir. Invalid tenant files do not fail the
// load: they are listed in Repo.Failed and the other tenants still load. It returns an
// error only for problems with the whole repo: dir or its tenants/ directory cannot be
// read, or defaults.yaml is invalid (defaults apply to every tenant).
func Load(dir string) (*Repo, error) { return load(dir, nil) }

// load is Load, through the cache when it is not nil.
func load(dir string, cache *Cache) (*Repo, error) {
	if err := checkRepoDir(dir); err != nil {
		return nil, err
	}
	defaults, err := loadDefaults(dir)
	if err != nil {
		return nil, err
	}
	policies, err := loadPolicies(dir, PoliciesDir)
	if err != nil {
		return nil, err
	}
	meta, err := loadPolicies(dir, MetaPoliciesDir)
	if err != nil {
		return nil, err
	}
	parsed, err := loadTenants(dir, defaults, cache)
	if err != nil {
		return nil, err
	}
	markConflicts(parsed)
	repo := assemble(parsed)
	repo.Defaults, repo.Policies, repo.MetaPolicies = defaults, policies, meta
	return repo, nil
}

func checkRepoDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("reading tenants repo: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("reading tenants repo: %s is not a directory", dir)
	}
	return nil
}

func loadDefaults(dir string) (*v1alpha1.TenantDefaults, error) {
	data, err := readRepoFile(dir, DefaultsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", DefaultsFile, err)
	}
	d, errs := ParseDefaults(DefaultsFile, data)
	if errs != nil {
		return nil, fmt.Errorf("invalid %s, which applies to every tenant, so no tenant was loaded:\n%w", DefaultsFile, errs)
	}
	return d, nil
}

func loadPolicies(dir, sub string) ([]Document, error) {
	files, err := yamlFiles(dir, sub)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s/: %w", sub, err)
	}
	docs := make([]Document, 0, len(files))
	for _, file := range files {
		data, err := readRepoFile(dir, file)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		docs = append(docs, Document{Path: file, Data: data})
	}
	return docs, nil
}

// loadTenants parses every tenant file, or takes it from the cache when its content is
// the same, and finishes the valid ones with the defaults.
func loadTenants(dir string, defaults *v1alpha1.TenantDefaults, cache *Cache) ([]*parsedTenant, error) {
	files, err := yamlFiles(dir, TenantsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tenants repo %s has no %s/ directory: %w", dir, TenantsDir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s/: %w", TenantsDir, err)
	}
	var known map[string]cachedFile
	var defaultsSum [sha256.Size]byte
	if cache != nil {
		if known, defaultsSum, err = cache.view(defaults); err != nil {
			return nil, err
		}
	}
	// Files parse independently (defaults and the cache are only read), one worker per
	// core: at thousands of tenants parsing is most of a pass that changes nothing.
	parsed := make([]*parsedTenant, len(files))
	entries := make([]*cachedFile, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				parsed[i], entries[i] = loadTenant(dir, files[i], defaults, known)
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	if cache != nil {
		cache.keep(defaultsSum, kept(files, entries))
	}
	return parsed, nil
}

// kept are the cache entries of the files loaded (a file that could not be read has none).
func kept(files []string, entries []*cachedFile) map[string]cachedFile {
	out := make(map[string]cachedFile, len(files))
	for i, e := range entries {
		if e != nil {
			out[files[i]] = *e
		}
	}
	return out
}

// loadTenant reads, parses and finishes one file, unless known has it with the same
// content; known is nil without a cache. It returns the file's cache entry too.
func loadTenant(dir, file string, defaults *v1alpha1.TenantDefaults, known map[string]cachedFile) (*parsedTenant, *cachedFile) {
	data, err := readRepoFile(dir, file)
	if err != nil {
		p := &parsedTenant{path: file, c: newCollector(file)}
		p.c.at(0, "", "%v", err)
		return p, nil
	}
	if known == nil {
		return parseAndFinish(file, data, defaults), nil
	}
	sum := sha256.Sum256(data)
	if e, ok := known[file]; ok && e.sum == sum {
		return e.parsed(file), &e
	}
	p := parseAndFinish(file, data, defaults)
	e := remember(p, sum)
	return p, &e
}

// parseAndFinish parses a tenant file and, when it is valid, applies the defaults.
func parseAndFinish(file string, data []byte, defaults *v1alpha1.TenantDefaults) *parsedTenant {
	p := parseTenant(file, data)
	if len(p.c.errs) == 0 {
		p.finish(defaults)
	}
	return p
}

// assemble splits the parsed files into valid tenants and failed files.
func assemble(parsed []*parsedTenant) *Repo {
	repo := &Repo{Files: len(parsed)}
	for _, p := range parsed {
		if errs := p.c.result(); errs != nil {
			repo.Failed = append(repo.Failed, FailedTenant{Name: fileStem(p.path), Path: p.path, Errors: errs})
			continue
		}
		repo.Tenants = append(repo.Tenants, p.tenant)
	}
	slices.SortFunc(repo.Tenants, func(a, b *v1alpha1.Tenant) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(repo.Failed, func(a, b FailedTenant) int { return cmp.Compare(a.Path, b.Path) })
	return repo
}
