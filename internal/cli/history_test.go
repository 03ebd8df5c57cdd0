package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/internal/localrepo"
)

func TestHistoryCommand(t *testing.T) {
	repo, err := localrepo.Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cpu := range []string{"4", "8"} {
		body := "apiVersion: tenantry.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: team-a\nspec:\n  owners:\n  - {kind: Group, name: a}\n  quota:\n    cpu: \"" + cpu + "\"\n"
		if err := repo.Write("tenants/team-a.yaml", []byte(body)); err != nil {
			t.Fatal(err)
		}
		if _, err := repo.Commit("team-a: " + cpu + " CPUs"); err != nil {
			t.Fatal(err)
		}
	}
	out, code := runCLI("history", "team-a", "--repo", repo.Dir)
	if code != 0 || !strings.Contains(out, "    team-a: 8 CPUs\n  tenants/team-a.yaml: tenant team-a modified\n      spec.quota.cpu: 4 -> 8\n") ||
		!strings.Contains(out, "tenant team-a added") || strings.Contains(out, "cluster:") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if out, code = runCLI("history", "team-b", "--repo", repo.Dir, "-o", "json"); code != 0 || out != "[]\n" {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if out, code = runCLI("history", "--repo", t.TempDir()); code == 0 {
		t.Fatalf("history outside a Git repository: exit 0:\n%s", out)
	}
}
