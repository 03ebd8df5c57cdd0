package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// DesiredOptions are what a tenant's desired objects depend on besides the tenant.
type DesiredOptions struct {
	// HostAPI is where the host API server answers, for the network isolation.
	HostAPI HostAPI
	// Templates are the ConstraintTemplates by constraint kind; TemplatesErr is why they
	// cannot be used (a tenant with policies then cannot be rendered).
	Templates    map[string]*unstructured.Unstructured
	TemplatesErr error
	// VirtualClusters adds the tenant's virtual cluster (charts/vcluster), with VCluster.
	VirtualClusters bool
	VCluster        VClusterOptions
}

// Desired renders every host object of a tenant, unlabelled: its namespace objects (Tenant),
// its Namespace labelled to select its policies' shared constraints (Constraints, applied
// for all tenants before them), then its virtual cluster (VCluster) when on.
func Desired(t *v1alpha1.Tenant, o DesiredOptions) ([]*unstructured.Unstructured, error) {
	objs, err := Tenant(t, o.HostAPI)
	if err != nil {
		return nil, err
	}
	if len(t.Spec.Policies) > 0 {
		if o.TemplatesErr != nil {
			return nil, o.TemplatesErr
		}
		constraints, err := Constraints(t, o.Templates)
		if err != nil {
			return nil, err
		}
		selectConstraints(objs, t.HostNamespace(), ConstraintLabels(constraints))
	}
	if !o.VirtualClusters {
		return objs, nil
	}
	vc, err := VCluster(t, o.VCluster)
	if err != nil {
		return nil, err
	}
	return append(objs, vc...), nil
}

// selectConstraints adds the constraint labels to the tenant's Namespace among objs.
func selectConstraints(objs []*unstructured.Unstructured, ns string, labels map[string]string) {
	for _, o := range objs {
		if o.GetKind() != "Namespace" || o.GetName() != ns {
			continue
		}
		all := o.GetLabels()
		if all == nil {
			all = map[string]string{}
		}
		for k, v := range labels {
			all[k] = v
		}
		o.SetLabels(all)
	}
}
