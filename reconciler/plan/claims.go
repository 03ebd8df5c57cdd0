package plan

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// Claim decides whether a tenant may use its host namespace: not when the namespace is
// protected (the agent's own included), nor when it exists without this tenant's owner
// labels and defaults.yaml (d, which may be nil) does not let the tenant adopt it. A
// namespace of the tenant's that is marked orphaned (it left it under Retain and came
// back) is returned, to be re-claimed. It only reads.
func Claim(ctx context.Context, r Reader, t *v1alpha1.Tenant, d *v1alpha1.TenantDefaults, protected []string) (*corev1.Namespace, *Refusal) {
	name := t.HostNamespace()
	if p := loader.ProtectedBy(name, d, protected...); p != "" {
		return nil, &Refusal{Reason: v1alpha1.ReasonNamespaceProtected, Err: fmt.Errorf(
			"host namespace %q is protected (matches %q): nothing was applied; choose another spec.namespace", name, p)}
	}
	ns, err := r.Namespace(ctx, name)
	switch {
	case err != nil:
		return nil, &Refusal{Reason: v1alpha1.ReasonApplyFailed, Err: fmt.Errorf("reading host namespace %s: %w", name, err)}
	case ns == nil:
		return nil, nil
	case !ownedNamespace(ns, t.Name) && (d == nil || !d.Spec.Adopts(t.Name, name)):
		return nil, &Refusal{Reason: v1alpha1.ReasonNamespaceNotOwned, Err: errors.New(notOwnedMessage(ns, t.Name))}
	case ns.Annotations[render.AnnotationOrphan] != "" && ownedNamespace(ns, t.Name):
		return ns, nil
	}
	return nil, nil
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
