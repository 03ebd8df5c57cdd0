package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/source"
)

// gitAgent is a tenants repo and an agent that reconciles it into the host, one pass per
// sync, rolling out virtual clusters with the locally imported image.
type gitAgent struct {
	t     *testing.T
	ctx   context.Context
	repo  *localrepo.Repo
	src   *source.Source
	agent *reconciler.Agent
	names map[string]bool // tenants committed, whose namespaces go at the end
}

// newGitAgent makes an empty repo and an agent named after instance, with the CRDs installed.
func newGitAgent(t *testing.T, instance string) *gitAgent {
	t.Helper()
	g := &gitAgent{t: t, ctx: logr.NewContext(context.Background(), testr.New(t)), names: map[string]bool{}}
	var err error
	if g.repo, err = localrepo.Init(filepath.Join(t.TempDir(), "repo")); err != nil {
		t.Fatal(err)
	}
	if g.src, err = source.New(source.Options{URL: g.repo.URL(), Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	quietControllerRuntime.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	g.agent, err = reconciler.New(host.Config, reconciler.Options{
		Instance: instance, VirtualClusters: true, HealthTimeout: 3 * time.Minute,
		VCluster: render.VClusterOptions{ImageRepository: render.DefaultVClusterImage, PullPolicy: corev1.PullNever},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.agent.Close)
	if err := g.agent.InstallCRDs(g.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.removeNamespaces)
	return g
}

// removeNamespaces deletes the host namespaces of every tenant committed, so the next
// test finds the node's CPU and memory free again.
func (g *gitAgent) removeNamespaces() {
	cs := host.Clientset(g.t)
	for name := range g.names {
		err := cs.CoreV1().Namespaces().Delete(context.Background(), "tenant-"+name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			g.t.Logf("removing the namespace of tenant %s: %v", name, err)
		}
	}
}

// commit writes (or, for an empty body, removes) tenants/<name>.yaml and commits it.
func (g *gitAgent) commit(name, body string) {
	g.t.Helper()
	path := "tenants/" + name + ".yaml"
	g.names[name] = true
	var err error
	if body == "" {
		err = g.repo.Remove(path)
	} else {
		err = g.repo.Write(path, []byte(body))
	}
	if err != nil {
		g.t.Fatal(err)
	}
	if _, err := g.repo.Commit("tenant " + name); err != nil {
		g.t.Fatal(err)
	}
}

// sync fetches the repo's head and runs one agent pass, failing the test when a tenant
// fails or the pass is held back. It returns the pass's result.
func (g *gitAgent) sync() *reconciler.Result {
	g.t.Helper()
	res := g.syncAllowingFailure()
	if res.Failed() || res.HeldBack != "" {
		g.t.Fatalf("agent pass failed: %+v", res)
	}
	return res
}

// syncAllowingFailure runs one agent pass and returns its result, failed tenants included.
func (g *gitAgent) syncAllowingFailure() *reconciler.Result {
	g.t.Helper()
	art, _, err := g.src.Fetch(g.ctx)
	if err != nil {
		g.t.Fatalf("fetch: %v", err)
	}
	res, err := g.agent.Sync(g.ctx, art.Path, art.Revision)
	if err != nil {
		g.t.Fatalf("agent pass: %v", err)
	}
	return res
}
