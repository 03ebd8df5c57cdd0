package framework

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/source"
	"github.com/tenantry/tenantry/reconciler/status"
)

// Repo is a tenants repo in Git, local to one test, and the agent's checkout of it.
type Repo struct {
	// Git is the repository (Git.Dir is its work tree, Git.URL() what an agent pulls).
	Git *localrepo.Repo
	// Source fetches it as the agent does.
	Source *source.Source
	t      testing.TB
}

// NewRepo makes an empty tenants repo in the test's temporary directory.
func NewRepo(t testing.TB) *Repo {
	t.Helper()
	git, err := localrepo.Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.New(source.Options{URL: git.URL(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return &Repo{Git: git, Source: src, t: t}
}

// Write puts tenants/<name>.yaml into the work tree.
func (r *Repo) Write(name, body string) {
	r.t.Helper()
	r.WriteFile("tenants/"+name+".yaml", body)
}

// WriteFile puts a file at path (relative to the repo's root) into the work tree.
func (r *Repo) WriteFile(path, body string) {
	r.t.Helper()
	if err := r.Git.Write(path, []byte(body)); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes tenants/<name>.yaml from the work tree.
func (r *Repo) Remove(name string) {
	r.t.Helper()
	if err := r.Git.Remove("tenants/" + name + ".yaml"); err != nil {
		r.t.Fatal(err)
	}
}

// Commit commits the work tree with msg.
func (r *Repo) Commit(msg string) {
	r.t.Helper()
	if _, err := r.Git.Commit(msg); err != nil {
		r.t.Fatal(err)
	}
}

// Fetch fetches the repo's head as the agent does.
func (r *Repo) Fetch(ctx context.Context) *source.Artifact {
	r.t.Helper()
	art, _, err := r.Source.Fetch(ctx)
	if err != nil {
		r.t.Fatalf("fetch: %v", err)
	}
	return art
}

// SyncWith fetches the repo's head and runs one pass of a over it. It fails the test when
// the pass returns an error, not when tenants fail: the result says so.
func (r *Repo) SyncWith(ctx context.Context, a *reconciler.Agent) *reconciler.Result {
	r.t.Helper()
	art := r.Fetch(ctx)
	res, err := a.Sync(ctx, art.Path, art.Revision)
	if err != nil {
		r.t.Fatalf("sync: %v", err)
	}
	return res
}

// Env is one test's tenants repo and an agent that reconciles it, pass by pass, into a
// cluster.
type Env struct {
	*Repo
	// Agent is the agent; a test may replace it (NewAgent) to change its options.
	Agent *reconciler.Agent
	// Ctx is the context of its passes: context.Background() unless LogToTest was called.
	Ctx context.Context
}

// NewEnv makes an empty repo and an agent on cfg with opts, its CRDs installed. An empty
// opts.Instance becomes one named after the test (InstanceName); a zero
// opts.HealthTimeout becomes 30s.
func NewEnv(t testing.TB, cfg *rest.Config, opts reconciler.Options) *Env {
	t.Helper()
	if opts.Instance == "" {
		opts.Instance = InstanceName(t)
	}
	if opts.HealthTimeout == 0 {
		opts.HealthTimeout = 30 * time.Second
	}
	return &Env{Repo: NewRepo(t), Agent: NewAgent(t, cfg, opts), Ctx: context.Background()}
}

// InstanceName is an agent instance name made of the test's name: lower case, "/" as
// "-", at most 60 characters (it is a label value).
func InstanceName(t testing.TB) string {
	name := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	return name[:min(len(name), 60)]
}

// quietControllerRuntime gives controller-runtime's global logger a sink once, so building
// an agent's client does not print a stack about a missing logger.
var quietControllerRuntime sync.Once

// NewAgent builds an agent on cfg with opts, installs the CRDs with it and closes it when
// the test ends.
func NewAgent(t testing.TB, cfg *rest.Config, opts reconciler.Options) *reconciler.Agent {
	t.Helper()
	quietControllerRuntime.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	a, err := reconciler.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	if err := a.InstallCRDs(context.Background()); err != nil {
		t.Fatalf("installing the CRDs: %v", err)
	}
	return a
}

// LogToTest sends the agent's log to the test's log. Only for agents whose passes all
// end before the test does (a log line after it panics).
func (e *Env) LogToTest(verbosity int) {
	e.Ctx = logr.NewContext(context.Background(), testr.NewWithInterface(e.t, testr.Options{Verbosity: verbosity}))
}

// Sync fetches the repo's head and runs one pass (see SyncWith).
func (e *Env) Sync() *reconciler.Result {
	e.t.Helper()
	return e.SyncWith(e.Ctx, e.Agent)
}

// SyncOK runs one pass and fails the test when a tenant failed or pruning was held back.
func (e *Env) SyncOK() *reconciler.Result {
	e.t.Helper()
	res := e.Sync()
	requireOK(e.t, res)
	return res
}

// CommitAndSync commits the work tree and runs one pass (see SyncWith).
func (e *Env) CommitAndSync(msg string) *reconciler.Result {
	e.t.Helper()
	e.Commit(msg)
	return e.Sync()
}

func requireOK(t testing.TB, res *reconciler.Result) {
	t.Helper()
	if res.Failed() || res.HeldBack != "" {
		t.Fatalf("agent pass failed: %+v", res)
	}
}

// Pass is one agent pass running in the background, for a test that must act while the
// pass waits (e.g. play the kubelet of the control plane the pass rolls out).
type Pass struct {
	done   chan struct{}
	result *reconciler.Result
	err    error
}

// Start fetches the repo's head and starts one pass over it. The pass is cancelled, and
// waited for, when the test ends.
func (e *Env) Start() *Pass {
	e.t.Helper()
	art := e.Fetch(e.Ctx)
	ctx, cancel := context.WithCancel(e.Ctx)
	p := &Pass{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.result, p.err = e.Agent.Sync(ctx, art.Path, art.Revision)
	}()
	e.t.Cleanup(func() { cancel(); <-p.done })
	return p
}

// Wait waits up to timeout for the pass to end and fails the test unless it succeeded
// (see SyncOK).
func (p *Pass) Wait(t testing.TB, timeout time.Duration) *reconciler.Result {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("the agent pass did not end in %s", timeout)
	}
	if p.err != nil {
		t.Fatalf("agent pass: %v", p.err)
	}
	requireOK(t, p.result)
	return p.result
}

// Tenant reads the host Tenant name as the agent sees it; nil when there is none.
func (e *Env) Tenant(name string) *v1alpha1.Tenant {
	e.t.Helper()
	return Tenant(e.t, e.Agent.Client(), name)
}

// Ready reports whether the host Tenant is Ready, and its Ready condition's reason and
// message.
func (e *Env) Ready(name string) (bool, string) {
	tn := e.Tenant(name)
	if tn == nil {
		return false, "no tenant"
	}
	c := Condition(tn, v1alpha1.ConditionReady)
	if c == nil {
		return false, "no Ready condition"
	}
	return c.Status == metav1.ConditionTrue, c.Reason + ": " + c.Message
}

// RequireReady fails the test unless every named tenant is Ready.
func (e *Env) RequireReady(names ...string) {
	e.t.Helper()
	for _, n := range names {
		if ok, msg := e.Ready(n); !ok {
			e.t.Fatalf("tenant %s not Ready: %s", n, msg)
		}
	}
}

// Tenant reads the host Tenant name through c; nil when there is none.
func Tenant(t testing.TB, c client.Client, name string) *v1alpha1.Tenant {
	t.Helper()
	all, err := status.ListTenants(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		if all[i].Name == name {
			return &all[i]
		}
	}
	return nil
}

// RequireTenant is Tenant, failing the test when there is none.
func RequireTenant(t testing.TB, c client.Client, name string) *v1alpha1.Tenant {
	t.Helper()
	tn := Tenant(t, c, name)
	if tn == nil {
		t.Fatalf("no Tenant %s", name)
	}
	return tn
}

// Condition is the tenant's status condition of type typ; nil when there is none (or no
// tenant).
func Condition(tn *v1alpha1.Tenant, typ string) *metav1.Condition {
	if tn == nil {
		return nil
	}
	return apimeta.FindStatusCondition(tn.Status.Conditions, typ)
}
