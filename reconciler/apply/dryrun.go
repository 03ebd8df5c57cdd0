package apply

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/reconciler/plan"
	"github.com/tenantry/tenantry/reconciler/render"
)

// DryRun classifies one object of a plan by a server-side dry-run apply, with its changed
// fields. Objects of a kind the cluster does not serve yet, and objects in namespaces that
// the plan creates (newNamespaces, filled as Namespaces are found to be created), cannot be
// dry-run: they are reported as created. It never writes.
func (m *Manager) DryRun(ctx context.Context, obj *unstructured.Unstructured, newNamespaces map[string]bool) (plan.ObjectChange, error) {
	c := plan.ObjectChange{Object: plan.ObjectName(obj), Action: plan.ActionCreate}
	if ns := obj.GetNamespace(); ns != "" && newNamespaces[ns] {
		return c, nil
	}
	served, err := m.Serves(obj.GroupVersionKind())
	if err != nil || !served {
		return c, err
	}
	entry, live, merged, err := m.Diff(ctx, obj)
	if err != nil {
		return c, fmt.Errorf("dry-run of %s: %w", c.Object, err)
	}
	switch entry.Action {
	case ssa.CreatedAction:
		if obj.GetKind() == "Namespace" && obj.GroupVersionKind().Group == "" && newNamespaces != nil {
			newNamespaces[obj.GetName()] = true
		}
	case ssa.ConfiguredAction:
		c.Action = plan.ActionConfigure
		c.Fields = plan.FieldChanges(live.Object, merged.Object)
		c.StampOnly = len(c.Fields) > 0
		for _, f := range c.Fields {
			c.StampOnly = c.StampOnly && f.Path == plan.RevisionAnnotationPath
		}
	default:
		c.Action = plan.ActionUnchanged
	}
	return c, nil
}

// PrunePreview lists the stale objects that Prune would delete: those still on the cluster
// with the tenant's owner labels, held back when heldBack. It only reads.
func (m *Manager) PrunePreview(ctx context.Context, tenant string, stale []*unstructured.Unstructured, heldBack bool) ([]plan.ObjectChange, error) {
	var out []plan.ObjectChange
	for _, o := range stale {
		served, err := m.Serves(o.GroupVersionKind())
		if err != nil {
			return nil, err
		}
		if !served {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		if err := m.client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("reading %s: %w", plan.ObjectName(o), err)
		}
		labels := live.GetLabels()
		if labels[render.LabelManagedBy] != render.ManagedByValue || labels[render.LabelTenant] != tenant {
			continue
		}
		out = append(out, plan.ObjectChange{Object: plan.ObjectName(o), Action: plan.ActionDelete, HeldBack: heldBack})
	}
	return out, nil
}
