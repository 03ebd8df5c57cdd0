package deps_test

import (
	"errors"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/tenantry/tenantry/"

// TestBinariesLinkNoTestCode fails when a binary links a package it must not: test code
// (the testing package or anything under test/) in any binary, the virtual cluster's code
// in the agent and CLI, and the agent's code in the virtual cluster. Each forbidden entry
// matches that package and every package below it.
func TestBinariesLinkNoTestCode(t *testing.T) {
	tests := []struct {
		binary    string
		forbidden []string
	}{
		{binary: "cmd/tenantry", forbidden: []string{"testing", module + "test", module + "syncer", module + "controlplane"}},
		{binary: "cmd/tenantry-vcluster", forbidden: []string{"testing", module + "test", module + "reconciler"}},
		{binary: "cmd/tenantry-images", forbidden: []string{"testing", module + "test"}},
		{binary: "cmd/tenantry-bench", forbidden: []string{"testing", module + "test"}},
	}
	for _, tc := range tests {
		t.Run(tc.binary, func(t *testing.T) {
			t.Parallel()
			imports := deps(t, module+tc.binary)
			for _, pkg := range slices.Sorted(maps.Keys(imports)) {
				for _, f := range tc.forbidden {
					if pkg == f || strings.HasPrefix(pkg, f+"/") {
						t.Errorf("%s links %s: %s", tc.binary, pkg, strings.Join(chain(imports, module+tc.binary, pkg), " -> "))
					}
				}
			}
		})
	}
}

// deps returns every package root links, with its direct imports, from `go list -deps`.
func deps(t *testing.T, root string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, root).Output()
	if err != nil {
		var msg string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v\n%s", root, err, msg)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			imports[fields[0]] = fields[1:]
		}
	}
	if _, ok := imports[root]; !ok {
		t.Fatalf("go list -deps %s does not list %s itself:\n%s", root, root, out)
	}
	return imports
}

// chain is the shortest import path from root to pkg, for the failure message.
func chain(imports map[string][]string, root, pkg string) []string {
	from := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == pkg {
			var path []string
			for ; p != ""; p = from[p] {
				path = append(path, p)
			}
			slices.Reverse(path)
			return path
		}
		for _, next := range imports[p] {
			if _, seen := from[next]; !seen {
				from[next] = p
				queue = append(queue, next)
			}
		}
	}
	return []string{root, "?", pkg}
}
