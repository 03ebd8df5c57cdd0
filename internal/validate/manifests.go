package validate

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler/render"
)

// clusterScoped lists kinds that never get the tenant's namespace filled in.
var clusterScoped = map[string]bool{"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "StorageClass": true, "PersistentVolume": true, "PriorityClass": true}

// Manifests checks workload manifests (files or directories of YAML) against the
// effective constraints of a tenant, as they would be enforced in its namespace.
func Manifests(ctx context.Context, r *Report, tenant string, paths []string) error {
	t, err := r.ctx.tenant(tenant)
	if err != nil {
		return err
	}
	constraints, err := render.Constraints(t, r.ctx.templates)
	if err != nil {
		return fmt.Errorf("tenant %s: %w", tenant, err)
	}
	engine, err := tenantEngine(ctx, r, t.HostNamespace(), constraints)
	if err != nil {
		return err
	}
	files, err := manifestFiles(paths)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := r.reviewFile(ctx, engine, f, t.HostNamespace()); err != nil {
			return err
		}
	}
	return nil
}

func tenantEngine(ctx context.Context, r *Report, ns string, constraints []*unstructured.Unstructured) (*policy.Engine, error) {
	var templates []*unstructured.Unstructured
	for _, c := range constraints {
		templates = append(templates, r.ctx.templates[c.GetKind()])
	}
	engine, err := policy.NewEngine(ctx, templates)
	if err != nil {
		return nil, err
	}
	for _, c := range constraints {
		if err := engine.AddConstraint(ctx, c); err != nil {
			return nil, fmt.Errorf("constraint %s: %w", c.GetName(), err)
		}
	}
	// The tenant's Namespace as the agent labels it: its shared constraints select it.
	labels := render.ConstraintLabels(constraints)
	labels["kubernetes.io/metadata.name"] = ns
	nsObj := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: labels}}
	if err := engine.AddNamespace(ctx, nsObj); err != nil {
		return nil, err
	}
	return engine, nil
}

func (r *Report) reviewFile(ctx context.Context, engine *policy.Engine, file, ns string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	docs, err := decodeDocuments(data)
	if err != nil {
		r.add(Finding{File: file, Severity: SeverityError, Message: err.Error()})
		return nil
	}
	for _, d := range docs {
		if d.obj.GetNamespace() == "" && !clusterScoped[d.obj.GetKind()] {
			d.obj.SetNamespace(ns)
		}
		violations, err := engine.Review(ctx, d.obj)
		if err != nil {
			return fmt.Errorf("%s:%d: reviewing %s/%s: %w", file, d.line, d.obj.GetKind(), d.obj.GetName(), err)
		}
		for _, v := range violations {
			r.add(Finding{File: file, Line: d.line, Constraint: v.Constraint, Severity: severity(v.EnforcementAction),
				Message: fmt.Sprintf("%s %s: %s", d.obj.GetKind(), d.obj.GetName(), v.Message)})
		}
	}
	return nil
}

// manifestFiles expands directories into their YAML files, sorted.
func manifestFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading manifests %s: %w", p, err)
		}
	}
	sort.Strings(out)
	return out, nil
}
