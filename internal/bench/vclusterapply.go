package bench

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// vclusterFieldManager owns what the benchmark applies of vcluster's chart.
const vclusterFieldManager = "tenantry-bench-vcluster"

// resourceFor maps an object to its dynamic client, namespaced or not.
type resourceFor func(*unstructured.Unstructured) (dynamic.ResourceInterface, bool, error)

func resources(cfg *rest.Config) (resourceFor, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return func(o *unstructured.Unstructured) (dynamic.ResourceInterface, bool, error) {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, false, fmt.Errorf("mapping %s: %w", gvk, err)
		}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			return dyn.Resource(m.Resource).Namespace(o.GetNamespace()), true, nil
		}
		return dyn.Resource(m.Resource), false, nil
	}, nil
}

// applyObjects server-side applies objs in order, as `kubectl apply --server-side` would.
func applyObjects(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) error {
	res, err := resources(cfg)
	if err != nil {
		return err
	}
	for _, o := range objs {
		ri, _, err := res(o)
		if err != nil {
			return err
		}
		if _, err := ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: vclusterFieldManager, Force: true}); err != nil {
			return fmt.Errorf("applying %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}

// deleteClusterScoped deletes the cluster-scoped objects among objs (a namespace's
// deletion takes the rest).
func deleteClusterScoped(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) error {
	res, err := resources(cfg)
	if err != nil {
		return err
	}
	for _, o := range objs {
		ri, namespaced, err := res(o)
		if err != nil {
			return err
		}
		if namespaced {
			continue
		}
		if err := ri.Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}
