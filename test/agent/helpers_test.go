package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/source"
	"github.com/tenantry/tenantry/test/cluster"
)

// env is one agent instance with its own Git repo, on the package's host cluster.
type env struct {
	t     *testing.T
	repo  *localrepo.Repo
	src   *source.Source
	agent *reconciler.Agent
	cs    kubernetes.Interface
	hook  *hookServer
}

func newEnv(t *testing.T, opts reconciler.Options) *env {
	t.Helper()
	repo, err := localrepo.Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	hook := newHookServer(t)
	opts.Instance = strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if len(opts.Instance) > 60 {
		opts.Instance = opts.Instance[:60]
	}
	opts.Notifier = notify.NewWebhook(hook.srv.URL)
	if opts.HealthTimeout == 0 {
		opts.HealthTimeout = 30 * time.Second
	}
	e := &env{t: t, repo: repo, hook: hook, cs: host.Clientset(t)}
	e.agent = e.newAgent(opts)
	e.src, err = source.New(source.Options{URL: repo.URL(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) newAgent(opts reconciler.Options) *reconciler.Agent {
	a, err := reconciler.New(host.Config, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(a.Close)
	if err := a.InstallCRDs(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// write puts a tenant file into the repo work tree.
func (e *env) write(name, body string) {
	e.t.Helper()
	if err := e.repo.Write("tenants/"+name+".yaml", []byte(body)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) remove(name string) {
	e.t.Helper()
	if err := e.repo.Remove("tenants/" + name + ".yaml"); err != nil {
		e.t.Fatal(err)
	}
}

// commitAndSync commits the work tree, fetches it and runs one pass.
func (e *env) commitAndSync(msg string) *reconciler.Result {
	e.t.Helper()
	if _, err := e.repo.Commit(msg); err != nil {
		e.t.Fatal(err)
	}
	return e.sync()
}

func (e *env) sync() *reconciler.Result {
	e.t.Helper()
	art, _, err := e.src.Fetch(context.Background())
	if err != nil {
		e.t.Fatalf("fetch: %v", err)
	}
	res, err := e.agent.Sync(context.Background(), art.Path, art.Revision)
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return res
}

// tenant reads a host Tenant.
func (e *env) tenant(name string) *v1alpha1.Tenant {
	e.t.Helper()
	all, err := reconciler.ListTenants(context.Background(), e.agent.Client())
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i]
		}
	}
	return nil
}

func (e *env) ready(name string) (bool, string) {
	t := e.tenant(name)
	if t == nil {
		return false, "no tenant"
	}
	c := apimeta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady)
	if c == nil {
		return false, "no Ready condition"
	}
	return c.Status == "True", c.Reason + ": " + c.Message
}

func (e *env) requireReady(names ...string) {
	e.t.Helper()
	for _, n := range names {
		if ok, msg := e.ready(n); !ok {
			e.t.Fatalf("tenant %s not Ready: %s", n, msg)
		}
	}
}

// tenantYAML is a tenant file with a quota of pods.
func tenantYAML(name, pods string, extra ...string) string {
	return fmt.Sprintf(`apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: %s
spec:
  owners:
  - kind: User
    name: %s-owner
  quota:
    pods: "%s"
    cpu: "4"
  limits:
    default:
      cpu: 500m
%s`, name, name, pods, strings.Join(extra, "\n"))
}

// hookServer records notifications posted to it.
type hookServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []notify.Event
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e notify.Event
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookServer) of(kind notify.Kind, tenant string) []notify.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []notify.Event
	for _, e := range h.events {
		if e.Kind == kind && e.Tenant == tenant {
			out = append(out, e)
		}
	}
	return out
}

func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	cluster.Eventually(t, 60*time.Second, what, cond)
}
