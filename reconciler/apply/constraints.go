package apply

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/reconciler/render"
)

// ApplyConstraints applies the shared constraints (render.SharedConstraints) before any
// tenant selects them, and waits until Gatekeeper enforces each: a tenant is not Ready
// before its policies hold.
func (m *Manager) ApplyConstraints(ctx context.Context, constraints []*unstructured.Unstructured) error {
	if len(constraints) == 0 {
		return nil
	}
	if _, err := m.rm.ApplyAll(ctx, constraints, ssa.DefaultApplyOptions()); err != nil {
		return fmt.Errorf("applying the shared constraints: %w", err)
	}
	return m.waitEnforced(ctx, constraints)
}

// PruneConstraints deletes the shared constraints of the given kinds that keep does not
// hold and no Namespace selects any more. A Namespace that still carries the label, a
// retained namespace or another agent's tenant, keeps its constraint: a policy is never
// dropped from under a namespace.
func (m *Manager) PruneConstraints(ctx context.Context, kinds []string, keep []*unstructured.Unstructured) ([]string, error) {
	kept := map[string]bool{}
	for _, c := range keep {
		kept[c.GetKind()+"/"+c.GetName()] = true
	}
	served, err := m.templateKinds(ctx)
	if err != nil {
		return nil, err
	}
	var pruned []string
	for _, kind := range kinds {
		if !served[kind] {
			continue // no template of that kind on the host, so no constraint (and no discovery)
		}
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(render.ConstraintAPIVersion)
		list.SetKind(kind + "List")
		err := m.client.List(ctx, list, client.MatchingLabels{render.LabelManagedBy: render.ManagedByValue, render.LabelShared: "true"})
		if apimeta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			continue // Gatekeeper serves no such kind (yet): nothing to prune
		}
		if err != nil {
			return pruned, fmt.Errorf("listing shared %s constraints: %w", kind, err)
		}
		for i := range list.Items {
			c := &list.Items[i]
			if kept[kind+"/"+c.GetName()] {
				continue
			}
			selected, err := m.selected(ctx, c)
			if err != nil {
				return pruned, err
			}
			if selected {
				continue
			}
			if err := m.client.Delete(ctx, c); err != nil && !apierrors.IsNotFound(err) {
				return pruned, fmt.Errorf("deleting shared constraint %s/%s: %w", kind, c.GetName(), err)
			}
			pruned = append(pruned, kind+"/"+c.GetName())
		}
	}
	if len(pruned) > 0 {
		logr.FromContextOrDiscard(ctx).Info("pruned shared constraints no namespace selects", "constraints", pruned)
	}
	return pruned, nil
}

// templateKinds returns the constraint kinds of the ConstraintTemplates on the host: a
// kind without one is served by no CRD, and asking for it would rerun API discovery.
func (m *Manager) templateKinds(ctx context.Context) (map[string]bool, error) {
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion(render.TemplateAPIVersion)
	list.SetKind("ConstraintTemplateList")
	if err := m.client.List(ctx, list); err != nil {
		if apimeta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing ConstraintTemplates: %w", err)
	}
	kinds := make(map[string]bool, len(list.Items))
	for _, t := range list.Items {
		if k, _, _ := unstructured.NestedString(t.Object, "spec", "crd", "spec", "names", "kind"); k != "" {
			kinds[k] = true
		}
	}
	return kinds, nil
}

// selected reports whether any Namespace carries the label that selects constraint c.
func (m *Manager) selected(ctx context.Context, c *unstructured.Unstructured) (bool, error) {
	nss := &corev1.NamespaceList{}
	if err := m.client.List(ctx, nss, client.HasLabels{render.ConstraintLabel(c.GetName())}, client.Limit(1)); err != nil {
		return true, fmt.Errorf("listing namespaces that select constraint %s: %w", c.GetName(), err)
	}
	return len(nss.Items) > 0, nil
}
