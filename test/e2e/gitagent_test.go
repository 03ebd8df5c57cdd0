package e2e

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/test/framework"
)

// gitAgent is a tenants repo and an agent that reconciles it into the host (framework.Env),
// one pass per sync, rolling out virtual clusters with the locally imported image. The
// agent logs to the test.
type gitAgent struct {
	*framework.Env
	t     *testing.T
	names map[string]bool // tenants committed, whose namespaces go at the end
}

// newGitAgent makes an empty repo and an agent named after instance, with the CRDs
// installed; edits change the agent's options (e.g. host-wide virtual cluster settings).
func newGitAgent(t *testing.T, instance string, edits ...func(*reconciler.Options)) *gitAgent {
	t.Helper()
	opts := reconciler.Options{
		Instance: instance, VirtualClusters: true, HealthTimeout: 3 * time.Minute,
		VCluster: render.VClusterOptions{ImageRepository: render.DefaultVClusterImage, PullPolicy: corev1.PullNever},
	}
	for _, edit := range edits {
		edit(&opts)
	}
	e := framework.NewEnv(t, host.Config, opts)
	e.LogToTest(0)
	g := &gitAgent{Env: e, t: t, names: map[string]bool{}}
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
	g.names[name] = true
	if body == "" {
		g.Remove(name)
	} else {
		g.Write(name, body)
	}
	g.Commit("tenant " + name)
}
