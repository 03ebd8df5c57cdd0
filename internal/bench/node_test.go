package bench

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
)

func TestNodeTenantYAMLIsAValidTenant(t *testing.T) {
	for _, tc := range []struct {
		name   string
		paused bool
	}{
		{"bench-node-1", false},
		{nodeKeep, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn, errs := loader.ParseTenant("tenants/"+tc.name+".yaml", []byte(nodeTenantYAML(tc.name, tc.paused)))
			if errs != nil {
				t.Fatalf("invalid tenant file: %v", errs)
			}
			s := tn.Spec
			if tn.Name != tc.name || s.Paused != tc.paused || s.DeletionPolicy != v1alpha1.DeletionDelete ||
				s.Persistence.Size == nil || !s.Persistence.Size.IsZero() || s.KubernetesVersion != "1.37" {
				t.Errorf("tenant %s: %+v", tn.Name, s)
			}
		})
	}
}

func TestNodeRunFiguresAreMedians(t *testing.T) {
	runs := []nodeRun{
		{ready: 30 * time.Second, deploy: 4 * time.Second, cpReady: 200, cpDeploy: 220, componentRSS: 900},
		{ready: 10 * time.Second, deploy: 6 * time.Second, cpReady: 300, cpDeploy: 330, componentRSS: 800},
		{ready: 20 * time.Second, deploy: 5 * time.Second, cpReady: 250, cpDeploy: 270, componentRSS: 1000},
	}
	want := map[string]float64{"node-ready": 20, "node-deploy": 5, "node-rss": 250, "node-rss-deploy": 270, "node-components-rss": 900}
	figs := nodeRunFigures(runs, []string{"kubelet"})
	if len(figs) != len(want) {
		t.Fatalf("%d figures, want %d", len(figs), len(want))
	}
	for _, f := range figs {
		if f.System != systemTenantry || f.Value != want[f.Metric] || len(f.Runs) != 3 {
			t.Errorf("%s (%s): %v from %v, want %v over 3 runs", f.Name, f.Metric, f.Value, f.Runs, want[f.Metric])
		}
	}
}

func TestDropRetired(t *testing.T) {
	r := &Report{Figures: []Figure{{Name: "a"}, {Name: retiredFigures[0]}, {Name: "b"}}}
	r.DropRetired()
	if len(r.Figures) != 2 || r.Figures[0].Name != "a" || r.Figures[1].Name != "b" {
		t.Errorf("figures after DropRetired: %+v", r.Figures)
	}
}

// TestLoadTenantYAMLIsAValidTenantWithoutQuota loads the load's tenant as the node bench's
// repo holds it, with its defaults.yaml: the grant of its toleration must hold.
func TestLoadTenantYAMLIsAValidTenantWithoutQuota(t *testing.T) {
	dir := t.TempDir()
	for path, body := range map[string]string{"defaults.yaml": nodeDefaultsYAML, "tenants/" + loadTenant + ".yaml": loadTenantYAML()} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := loader.Load(dir)
	if err != nil || len(repo.Failed) > 0 || len(repo.Tenants) != 1 {
		t.Fatalf("loading the bench repo: %v, failed %+v", err, repo)
	}
	tn := repo.Tenants[0]
	if len(tn.Spec.Pods.Tolerations) != 1 || tn.Spec.Pods.Tolerations[0].Key != standinTaint {
		t.Errorf("load tenant's tolerations: %+v", tn.Spec.Pods.Tolerations)
	}
	s := tn.Spec
	if tn.Name != loadTenant || len(s.Quota) != 0 || s.Limits != nil || s.Paused || s.DeletionPolicy != v1alpha1.DeletionDelete ||
		s.Persistence.Size == nil || !s.Persistence.Size.IsZero() {
		t.Errorf("load tenant: %+v", s)
	}
}
