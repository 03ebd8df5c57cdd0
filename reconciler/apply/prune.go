package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/reconciler/render"
)

// Prune deletes objects of a tenant, but only those carrying its owner labels, and returns
// the changes.
func (m *Manager) Prune(ctx context.Context, tenant string, objs []*unstructured.Unstructured) ([]string, error) {
	cs, err := m.rm.DeleteAll(ctx, objs, ownedBy(tenant))
	logChanges(ctx, "pruned", cs, err)
	return changesOf(cs), err
}

func ownedBy(tenant string) ssa.DeleteOptions {
	return ssa.DeleteOptions{
		PropagationPolicy: metav1.DeletePropagationBackground,
		Inclusions:        map[string]string{render.LabelManagedBy: render.ManagedByValue, render.LabelTenant: tenant},
	}
}

// Orphan marks the Namespaces among objs orphaned at rev (deletionPolicy Retain), so
// admins can find them; they keep their owner labels, so a tenant moving back re-claims them.
func (m *Manager) Orphan(ctx context.Context, objs []*unstructured.Unstructured, rev string) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		render.AnnotationOrphan: fmt.Sprintf("%s at %s", rev, time.Now().UTC().Format(time.RFC3339)),
	}}})
	for _, o := range objs {
		if o.GetKind() != "Namespace" {
			continue
		}
		if err := client.IgnoreNotFound(m.client.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch))); err != nil {
			return fmt.Errorf("marking namespace %s orphaned: %w", o.GetName(), err)
		}
	}
	return nil
}

// Reclaim removes the orphaned mark of a namespace its tenant moved back into.
func (m *Manager) Reclaim(ctx context.Context, ns *corev1.Namespace) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{render.AnnotationOrphan: nil}}})
	if err := m.client.Patch(ctx, ns, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("re-claiming host namespace %s: %w", ns.Name, err)
	}
	logr.FromContextOrDiscard(ctx).Info("re-claimed an orphaned namespace", "namespace", ns.Name)
	return nil
}
