package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

const (
	gitRepositoryName = "tenants"
	infraName         = "infra"
	policiesName      = "policies"
	requestedAtKey    = "reconcile.fluxcd.io/requestedAt"
)

// createSource creates the GitRepository that source-controller fetches from the Git server.
func (e *fluxEnv) createSource(ctx context.Context) error {
	repo := object("source.toolkit.fluxcd.io/v1", "GitRepository", gitRepositoryName, map[string]any{
		"url": e.git.URL(e.dir), "interval": "1m", "ref": map[string]any{"branch": "main"},
	})
	_, err := e.dyn.Resource(gitRepositoryGVR).Namespace(fluxNamespace).Create(ctx, repo, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the GitRepository: %w", err)
	}
	return nil
}

// createKustomizations creates infra (CRD and templates), policies (the shared
// constraints, which need the templates) and the tenant Kustomizations of the shape, which
// need the constraints in force first, as tenantry applies them.
func (e *fluxEnv) createKustomizations(ctx context.Context) error {
	ks := []*unstructured.Unstructured{kustomization(infraName, "./infra", ""), kustomization(policiesName, "./policies", infraName)}
	if e.shape == fluxAll {
		ks = append(ks, kustomization("tenants", "./tenants", policiesName))
	} else {
		for _, t := range e.rendered.tenants {
			ks = append(ks, kustomization(t.name, "./tenants/"+t.name, policiesName))
		}
	}
	e.kustomizations = e.kustomizations[:0]
	for _, k := range ks {
		if _, err := e.dyn.Resource(kustomizationGVR).Namespace(fluxNamespace).Create(ctx, k, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Kustomization %s: %w", k.GetName(), err)
		}
		e.kustomizations = append(e.kustomizations, k.GetName())
	}
	return nil
}

// kustomizationOf names the Kustomization that holds a tenant.
func (e *fluxEnv) kustomizationOf(tenant string) string {
	if e.shape == fluxAll {
		return "tenants"
	}
	return tenant
}

// waitApplied polls until every named Kustomization applied rev, or the deadline; it
// returns how many had.
func (e *fluxEnv) waitApplied(ctx context.Context, names []string, rev string, deadline time.Time) (int, error) {
	return e.waitStatus(ctx, kustomizationGVR, names, deadline, func(k *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(k.Object, "status", "lastAppliedRevision")
		return got == rev
	})
}

// requestReconcile annotates the named objects of gvr as `flux reconcile` does, with token.
func (e *fluxEnv) requestReconcile(ctx context.Context, gvr schema.GroupVersionResource, names []string, token string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{requestedAtKey: token}}})
	if err != nil {
		return fmt.Errorf("encoding the patch: %w", err)
	}
	for _, name := range names {
		_, err := e.dyn.Resource(gvr).Namespace(fluxNamespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil {
			return fmt.Errorf("requesting reconciliation of %s: %w", name, err)
		}
	}
	return nil
}

// waitHandled waits until the GitRepository and every Kustomization handled the
// reconcile request token.
func (e *fluxEnv) waitHandled(ctx context.Context, token string, deadline time.Time) error {
	handled := func(o *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(o.Object, "status", "lastHandledReconcileAt")
		return got == token
	}
	n, err := e.waitStatus(ctx, gitRepositoryGVR, []string{gitRepositoryName}, deadline, handled)
	if err == nil && n < 1 {
		err = errors.New("the GitRepository did not handle the request")
	}
	if err != nil {
		return err
	}
	n, err = e.waitStatus(ctx, kustomizationGVR, e.kustomizations, deadline, handled)
	if err == nil && n < len(e.kustomizations) {
		err = fmt.Errorf("%d of %d Kustomizations handled the request", n, len(e.kustomizations))
	}
	return err
}

// waitStatus polls the objects of gvr until every named one is done, or the deadline; it
// returns how many were.
func (e *fluxEnv) waitStatus(ctx context.Context, gvr schema.GroupVersionResource, names []string, deadline time.Time, done func(*unstructured.Unstructured) bool) (int, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for {
		list, err := e.dyn.Resource(gvr).Namespace(fluxNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, fmt.Errorf("listing %s: %w", gvr.Resource, err)
		}
		n := 0
		for i := range list.Items {
			if want[list.Items[i].GetName()] && done(&list.Items[i]) {
				n++
			}
		}
		if n == len(names) || time.Now().After(deadline) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// kustomization is a Kustomization of path in the GitRepository, depending on the
// Kustomization dependsOn unless it is empty.
func kustomization(name, path, dependsOn string) *unstructured.Unstructured {
	spec := map[string]any{
		"interval": "60m", "retryInterval": "5s", "path": path, "prune": true,
		"sourceRef": map[string]any{"kind": "GitRepository", "name": gitRepositoryName},
	}
	if dependsOn != "" {
		spec["dependsOn"] = []any{map[string]any{"name": dependsOn}}
	}
	return object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", name, spec)
}

// object is a flux-system object of kind with spec.
func object(apiVersion, kind, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": fluxNamespace}, "spec": spec,
	}}
}
