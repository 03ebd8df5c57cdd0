package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// peerRun is `kubectl apply --server-side` over the same rendered objects, as a CI job
// would run it: the Tenant CRD and templates first, then everything else.
type peerRun struct{ cold, noop time.Duration }

// runPeer renders the repo of n tenants with tenantry's renderer into plain manifests and
// applies them with kubectl on a fresh host control plane with Gatekeeper.
func runPeer(ctx context.Context, n int, work string) (*peerRun, error) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return nil, fmt.Errorf("kubectl not found: %w", err)
	}
	if _, err := writeTenants(filepath.Join(work, "repo"), n); err != nil {
		return nil, err
	}
	stage1, stage2, err := renderManifests(filepath.Join(work, "repo"), filepath.Join(work, "manifests"))
	if err != nil {
		return nil, err
	}
	c, err := localcluster.Start(ctx, localcluster.Options{Gatekeeper: true, Dir: filepath.Join(work, "cluster")})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kubectl %v: %w\n%s", args, err, tail(out.String()))
		}
		return nil
	}
	apply := func() error {
		if err := run("apply", "--server-side", "--field-manager=ci", "-f", stage1); err != nil {
			return err
		}
		if err := run("wait", "--for=condition=Established", "crd/tenants.tenantry.dev", "--timeout=5m"); err != nil {
			return err
		}
		if err := run("wait", "--for=jsonpath={.status.created}=true", "constrainttemplates", "--all", "--timeout=5m"); err != nil {
			return err
		}
		return run("apply", "--server-side", "--field-manager=ci", "-f", stage2)
	}
	r := &peerRun{}
	start := time.Now()
	if err := apply(); err != nil {
		return nil, err
	}
	r.cold = time.Since(start)
	start = time.Now()
	if err := apply(); err != nil {
		return nil, err
	}
	r.noop = time.Since(start)
	return r, nil
}

// renderManifests writes stage1 (the Tenant CRD and used templates) and stage2 (the shared
// constraints, then namespaces, then the rest) as multi-document YAML files.
func renderManifests(repoDir, out string) (string, string, error) {
	r, err := renderRepo(repoDir)
	if err != nil {
		return "", "", err
	}
	var namespaces, rest []*unstructured.Unstructured
	for _, t := range r.tenants {
		namespaces = append(namespaces, t.objects[0])
		rest = append(rest, t.objects[1:]...)
	}
	p1, p2 := filepath.Join(out, "stage1.yaml"), filepath.Join(out, "stage2.yaml")
	if err := writeYAML(p1, r.stage1); err != nil {
		return "", "", err
	}
	return p1, p2, writeYAML(p2, slices.Concat(r.constraints, namespaces, rest))
}

// renderedRepo is a tenants repo rendered by tenantry's own renderer into the plain
// objects tenantry applies, for peers that apply manifests.
type renderedRepo struct {
	// stage1 is what must exist first: the Tenant CRD and the used templates.
	stage1 []*unstructured.Unstructured
	// constraints are the shared Gatekeeper constraints, each once, applied before the tenants.
	constraints []*unstructured.Unstructured
	tenants     []renderedTenant
}

// renderedTenant is one tenant's objects, namespace first, Tenant mirror last.
type renderedTenant struct {
	name    string
	objects []*unstructured.Unstructured
}

func renderRepo(repoDir string) (*renderedRepo, error) {
	repo, err := loader.Load(repoDir)
	if err != nil {
		return nil, err
	}
	lib, err := policy.Library()
	if err != nil {
		return nil, err
	}
	templates := map[string]*unstructured.Unstructured{}
	for _, t := range lib {
		templates[render.TemplateKind(t)] = t
	}
	crd, err := toObject(v1alpha1.CRD)
	if err != nil {
		return nil, err
	}
	out := &renderedRepo{stage1: []*unstructured.Unstructured{crd, templates["K8sBlockNodePort"], templates["K8sNoPrivileged"]},
		constraints: render.SharedConstraints(repo.Tenants, templates)}
	for _, t := range repo.Tenants {
		objs, err := renderTenant(t, templates)
		if err != nil {
			return nil, err
		}
		out.tenants = append(out.tenants, renderedTenant{name: t.Name, objects: objs})
	}
	return out, nil
}

// renderTenant renders a tenant's objects as the agent does, its Namespace selecting its
// shared constraints, and its Tenant mirror last.
func renderTenant(t *v1alpha1.Tenant, templates map[string]*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	objs, err := render.Desired(t, render.DesiredOptions{Templates: templates})
	if err != nil {
		return nil, err
	}
	render.Label(objs, t.Name, t.Status.SourcePath, "main@sha1:bench")
	mirror, err := mirrorOf(t)
	if err != nil {
		return nil, err
	}
	return append(objs, mirror), nil
}

func mirrorOf(t *v1alpha1.Tenant) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(map[string]any{"apiVersion": v1alpha1.APIVersion, "kind": v1alpha1.Kind,
		"metadata": map[string]any{"name": t.Name}, "spec": t.Spec})
	if err != nil {
		return nil, fmt.Errorf("encoding tenant %s: %w", t.Name, err)
	}
	u := &unstructured.Unstructured{}
	return u, u.UnmarshalJSON(data)
}

func toObject(data []byte) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	return u, nil
}

func writeYAML(path string, objs []*unstructured.Unstructured) error {
	var b bytes.Buffer
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", o.GetName(), err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// peerComponent is the directory of a peer component that `make peers` builds
// (hack/components.sh NAME), once each of files is there in it; else an error naming the
// first missing one and how to build it.
func peerComponent(name string, files ...string) (string, error) {
	dir, err := localcluster.ComponentsDir()
	if err != nil {
		return "", err
	}
	dir = filepath.Join(dir, name)
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return "", fmt.Errorf("%s is not built (run hack/components.sh %s, or make peers): %w", f, name, err)
		}
	}
	return dir, nil
}
