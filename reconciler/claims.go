package reconciler

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// claimRefusal is why a tenant may not use its host namespace; nothing is applied for it.
type claimRefusal struct {
	reason string
	msg    string
}

func (r *claimRefusal) Error() string { return r.msg }

// namespaceRefusal reads the tenant's host namespace and says why the tenant may not use
// it: the namespace is protected (the agent's own included), or it exists without this
// tenant's owner labels and defaults.yaml (d, which may be nil) does not let the tenant
// adopt it. It returns the live namespace (nil when absent), and never writes.
func (a *Agent) namespaceRefusal(ctx context.Context, t *v1alpha1.Tenant, d *v1alpha1.TenantDefaults) (*corev1.Namespace, *claimRefusal, error) {
	name := t.HostNamespace()
	if p := loader.ProtectedBy(name, d, a.opts.ProtectedNamespaces...); p != "" {
		return nil, &claimRefusal{v1alpha1.ReasonNamespaceProtected, fmt.Sprintf(
			"host namespace %q is protected (matches %q): nothing was applied; choose another spec.namespace", name, p)}, nil
	}
	ns := &corev1.Namespace{}
	if err := a.client.Get(ctx, client.ObjectKey{Name: name}, ns); apierrors.IsNotFound(err) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("reading host namespace %s: %w", name, err)
	}
	if ownedNamespace(ns, t.Name) || (d != nil && d.Spec.Adopts(t.Name, name)) {
		return ns, nil, nil
	}
	return ns, &claimRefusal{v1alpha1.ReasonNamespaceNotOwned, notOwnedMessage(ns, t.Name)}, nil
}

func ownedNamespace(ns *corev1.Namespace, tenant string) bool {
	l := ns.GetLabels()
	return l[render.LabelTenant] == tenant && l[render.LabelManagedBy] == render.ManagedByValue
}

func notOwnedMessage(ns *corev1.Namespace, tenant string) string {
	whose := "was not created by tenantry for this tenant"
	if other := ns.GetLabels()[render.LabelTenant]; other != "" && ns.GetLabels()[render.LabelManagedBy] == render.ManagedByValue {
		whose = fmt.Sprintf("belongs to tenant %q", other)
	}
	return fmt.Sprintf("host namespace %q already exists and %s: nothing was applied. Choose another spec.namespace, "+
		"or ask the platform team to add {namespace: %s, tenant: %s} to defaults.yaml spec.namespaceAdoptions",
		ns.Name, whose, ns.Name, tenant)
}

// claimNamespace refuses a tenant whose host namespace is not its own (see
// namespaceRefusal). When the tenant moves back into a namespace it left under Retain,
// the namespace's orphaned mark is removed.
func (a *Agent) claimNamespace(ctx context.Context, t *v1alpha1.Tenant, d *v1alpha1.TenantDefaults) (string, error) {
	ns, refusal, err := a.namespaceRefusal(ctx, t, d)
	if err != nil {
		return v1alpha1.ReasonApplyFailed, err
	}
	if refusal != nil {
		return refusal.reason, refusal
	}
	if ns == nil || ns.Annotations[render.AnnotationOrphan] == "" || !ownedNamespace(ns, t.Name) {
		return "", nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{render.AnnotationOrphan: nil}}})
	if err := a.client.Patch(ctx, ns, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return v1alpha1.ReasonApplyFailed, fmt.Errorf("re-claiming host namespace %s: %w", ns.Name, err)
	}
	logr.FromContextOrDiscard(ctx).Info("re-claimed an orphaned namespace", "namespace", ns.Name)
	return "", nil
}

// retainLeftNamespaces applies deletionPolicy Retain to the namespaces a tenant moved
// away from (spec.namespace changed): each stale Namespace is marked orphaned, like a
// removed tenant's, and keeps its owner labels so that a move back re-claims it; neither
// it nor the objects inside it are deleted. It returns what it retained, as changes, and
// the stale objects still to prune. Under Delete everything stale is pruned, the old
// namespace (and so its data) included.
func (a *Agent) retainLeftNamespaces(ctx context.Context, t *v1alpha1.Tenant, objs []*unstructured.Unstructured, rev string) ([]string, []*unstructured.Unstructured, error) {
	if t.Spec.DeletionPolicy == v1alpha1.DeletionDelete {
		return nil, objs, nil
	}
	left := map[string]bool{}
	var namespaces []*unstructured.Unstructured
	for _, o := range objs {
		if isNamespace(o) {
			left[o.GetName()] = true
			namespaces = append(namespaces, o)
		}
	}
	if len(namespaces) == 0 {
		return nil, objs, nil
	}
	if err := a.orphan(ctx, namespaces, rev); err != nil {
		return nil, objs, err
	}
	var changes []string
	for _, ns := range namespaces {
		changes = append(changes, "Namespace/"+ns.GetName()+" retained (orphaned: deletionPolicy Retain)")
	}
	logr.FromContextOrDiscard(ctx).Info("retained the namespaces the tenant left", "namespaces", changes)
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		if !isNamespace(o) && !left[o.GetNamespace()] {
			rest = append(rest, o)
		}
	}
	return changes, rest, nil
}

func isNamespace(o *unstructured.Unstructured) bool {
	return o.GetKind() == "Namespace" && o.GroupVersionKind().Group == ""
}
