package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

const (
	gitRepositoryName = "tenants"
	infraName         = "infra"
	requestedAtKey    = "reconcile.fluxcd.io/requestedAt"
)

// createSource creates the GitRepository whose status the artifact server fills.
func (e *fluxEnv) createSource(ctx context.Context) error {
	repo := object("source.toolkit.fluxcd.io/v1", "GitRepository", gitRepositoryName, map[string]any{
		"url": "http://127.0.0.1/tenants.git", "interval": "60m", "ref": map[string]any{"branch": "main"},
	})
	_, err := e.dyn.Resource(gitRepositoryGVR).Namespace(fluxNamespace).Create(ctx, repo, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the GitRepository: %w", err)
	}
	return nil
}

// publish packs the repo as a new revision and records it on the GitRepository's
// status, as source-controller does after a fetch.
func (e *fluxEnv) publish(ctx context.Context, msg string) (string, error) {
	a, err := e.artifacts.pack(e.dir, fmt.Sprintf("%d", time.Now().UnixNano()))
	if err != nil {
		return "", err
	}
	rev := "main@sha1:" + a.digest[len("sha256:"):len("sha256:")+40]
	repos := e.dyn.Resource(gitRepositoryGVR).Namespace(fluxNamespace)
	repo, err := repos.Get(ctx, gitRepositoryName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("getting the GitRepository: %w", err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	repo.Object["status"] = map[string]any{
		"observedGeneration": repo.GetGeneration(),
		"artifact": map[string]any{"path": a.path, "url": a.url, "revision": rev, "digest": a.digest,
			"lastUpdateTime": now, "size": a.size},
		"conditions": []any{
			condition("Ready", "Succeeded", "stored artifact for revision '"+rev+"': "+msg, now, repo.GetGeneration()),
			condition("ArtifactInStorage", "Succeeded", "stored artifact for revision '"+rev+"'", now, repo.GetGeneration()),
		},
	}
	if _, err := repos.UpdateStatus(ctx, repo, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("recording the artifact: %w", err)
	}
	return rev, nil
}

// createKustomizations creates infra (CRD and templates) and the tenant Kustomizations
// of the shape, which depend on infra.
func (e *fluxEnv) createKustomizations(ctx context.Context) error {
	ks := []*unstructured.Unstructured{kustomization(infraName, "./infra", false)}
	if e.shape == fluxAll {
		ks = append(ks, kustomization("tenants", "./tenants", true))
	} else {
		for _, t := range e.rendered.tenants {
			ks = append(ks, kustomization(t.name, "./tenants/"+t.name, true))
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
	return e.waitStatus(ctx, names, deadline, func(k *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(k.Object, "status", "lastAppliedRevision")
		return got == rev
	})
}

// requestReconcile annotates every Kustomization as `flux reconcile` does.
func (e *fluxEnv) requestReconcile(ctx context.Context) (string, error) {
	token := time.Now().UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{requestedAtKey: token}}})
	if err != nil {
		return "", fmt.Errorf("encoding the patch: %w", err)
	}
	for _, name := range e.kustomizations {
		_, err := e.dyn.Resource(kustomizationGVR).Namespace(fluxNamespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil {
			return "", fmt.Errorf("requesting reconciliation of %s: %w", name, err)
		}
	}
	return token, nil
}

// waitHandled waits until every Kustomization handled the reconcile request token.
func (e *fluxEnv) waitHandled(ctx context.Context, token string, deadline time.Time) error {
	n, err := e.waitStatus(ctx, e.kustomizations, deadline, func(k *unstructured.Unstructured) bool {
		got, _, _ := unstructured.NestedString(k.Object, "status", "lastHandledReconcileAt")
		return got == token
	})
	if err == nil && n < len(e.kustomizations) {
		err = fmt.Errorf("%d of %d Kustomizations handled the request", n, len(e.kustomizations))
	}
	return err
}

func (e *fluxEnv) waitStatus(ctx context.Context, names []string, deadline time.Time, done func(*unstructured.Unstructured) bool) (int, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for {
		list, err := e.dyn.Resource(kustomizationGVR).Namespace(fluxNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, fmt.Errorf("listing Kustomizations: %w", err)
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

func kustomization(name, path string, dependsOnInfra bool) *unstructured.Unstructured {
	spec := map[string]any{
		"interval": "60m", "retryInterval": "5s", "path": path, "prune": true,
		"sourceRef": map[string]any{"kind": "GitRepository", "name": gitRepositoryName},
	}
	if dependsOnInfra {
		spec["dependsOn"] = []any{map[string]any{"name": infraName}}
	}
	return object("kustomize.toolkit.fluxcd.io/v1", "Kustomization", name, spec)
}

func object(apiVersion, kind, name string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": fluxNamespace}, "spec": spec,
	}}
}

func condition(typ, reason, msg, now string, gen int64) map[string]any {
	return map[string]any{"type": typ, "status": "True", "reason": reason, "message": msg,
		"lastTransitionTime": now, "observedGeneration": gen}
}
