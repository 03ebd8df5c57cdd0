package loader

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// TestCacheLoadsAsLoad walks one repo through a series of edits and checks, after each,
// that a Load through a long-lived cache returns exactly what a plain Load does, and that
// only the files that changed (all of them after a defaults change) were parsed again.
func TestCacheLoadsAsLoad(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"tenants/team-a.yaml": tenantDoc("team-a", "  quota: {cpu: 2}"),
		"tenants/team-b.yaml": tenantDoc("team-b", "  paused: false"),
		"tenants/team-c.yaml": tenantDoc("team-c", "  namespace: tenant-team-b"), // conflicts with team-b
		"tenants/broken.yaml": tenantDoc("broken", "  quota: {cpu: two}"),
	})
	maxCPU4 := doc("apiVersion: tenantry.dev/v1alpha1", "kind: TenantDefaults", "spec:", "  maxQuota: {cpu: 4}")
	maxCPU1 := doc("apiVersion: tenantry.dev/v1alpha1", "kind: TenantDefaults", "spec:", "  maxQuota: {cpu: 1}")
	steps := []struct {
		name     string
		write    map[string]string // "" removes the file
		reparsed []string
	}{
		{name: "first load parses all",
			reparsed: []string{"tenants/broken.yaml", "tenants/team-a.yaml", "tenants/team-b.yaml", "tenants/team-c.yaml"}},
		{name: "nothing changed"},
		{name: "one file changed",
			write:    map[string]string{"tenants/team-a.yaml": tenantDoc("team-a", "  quota: {cpu: 3}")},
			reparsed: []string{"tenants/team-a.yaml"}},
		{name: "conflict resolved by an edit of the other file",
			write:    map[string]string{"tenants/team-c.yaml": tenantDoc("team-c", "  paused: true")},
			reparsed: []string{"tenants/team-c.yaml"}},
		{name: "defaults added: all again",
			write:    map[string]string{"defaults.yaml": maxCPU4},
			reparsed: []string{"tenants/broken.yaml", "tenants/team-a.yaml", "tenants/team-b.yaml", "tenants/team-c.yaml"}},
		{name: "defaults changed: all again, team-a now over the maximum",
			write:    map[string]string{"defaults.yaml": maxCPU1},
			reparsed: []string{"tenants/broken.yaml", "tenants/team-a.yaml", "tenants/team-b.yaml", "tenants/team-c.yaml"}},
		{name: "file removed, new file with the removed one's content",
			write: map[string]string{"tenants/team-b.yaml": "", "tenants/team-d.yaml": tenantDoc("team-d", "  paused: false"),
				"tenants/broken.yaml": tenantDoc("broken", "  paused: false")},
			reparsed: []string{"tenants/broken.yaml", "tenants/team-d.yaml"}},
	}
	cache := NewCache()
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			edit(t, dir, step.write)
			before := cache.byPath
			got, err := cache.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			want, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("through the cache:\n%+v\nplain Load:\n%+v", got, want)
			}
			if r := reparsed(before, cache.byPath); !reflect.DeepEqual(r, step.reparsed) {
				t.Errorf("parsed again %v, want %v", r, step.reparsed)
			}
			// What Load returns is the caller's: changing it must not reach the next Load.
			for _, tn := range got.Tenants {
				tn.Spec.Paused = !tn.Spec.Paused
				tn.Status.SourcePath = "changed"
			}
			for i := range got.Failed {
				got.Failed[i].Errors[0].Msg = "changed"
			}
			if again, err := cache.Load(dir); err != nil || !reflect.DeepEqual(again, want) {
				t.Fatalf("after changing what the cache returned, it returns:\n%+v (error %v)", again, err)
			}
		})
	}
}

// edit writes the files, removing those whose content is "".
func edit(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(name))
		var err error
		if content == "" {
			err = os.Remove(full)
		} else {
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// reparsed are the sorted paths whose cache entry is new: a file kept from the cache
// keeps its entry, whose line index is the same map.
func reparsed(before, after map[string]cachedFile) []string {
	var out []string
	for _, path := range slices.Sorted(maps.Keys(after)) {
		b, ok := before[path]
		if !ok || reflect.ValueOf(b.lines).UnsafePointer() != reflect.ValueOf(after[path].lines).UnsafePointer() {
			out = append(out, path)
		}
	}
	return out
}
