package diff_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/test/framework"
)

var ctx = context.Background()

// env is a tenants repo and the agent instance that applies it. Its agents' requests are
// tracked, so that the read-only check can wait for the last of them to land.
type env struct {
	*framework.Repo
	t        *testing.T
	instance string
	requests *framework.Requests
}

func newEnv(t *testing.T, instance string) *env {
	t.Helper()
	return &env{Repo: framework.NewRepo(t), t: t, instance: instance, requests: &framework.Requests{}}
}

// sync runs one agent pass over the committed repo with a fresh agent, and stops the
// agent (its event recorder) before returning, so that nothing writes afterwards.
func (e *env) sync() *reconciler.Result {
	e.t.Helper()
	res, _ := e.pass(false)
	return res
}

// checkDrift runs a pass and then the agent's drift check, which corrects drift.
func (e *env) checkDrift() []reconciler.Drift {
	e.t.Helper()
	_, drift := e.pass(true)
	return drift
}

func (e *env) pass(checkDrift bool) (*reconciler.Result, []reconciler.Drift) {
	e.t.Helper()
	lib, err := policy.Library()
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := reconciler.New(e.requests.Track(host.Config), reconciler.Options{Instance: e.instance, HealthTimeout: 30 * time.Second, Templates: lib})
	if err != nil {
		e.t.Fatal(err)
	}
	defer a.Close()
	if err := a.InstallCRDs(ctx); err != nil {
		e.t.Fatal(err)
	}
	res := e.SyncWith(logr.NewContext(ctx, testr.NewWithOptions(e.t, testr.Options{Verbosity: 5})), a)
	if res.Failed() {
		e.t.Fatalf("sync: %+v", res)
	}
	if !checkDrift {
		return res, nil
	}
	drift := a.CheckDrift(ctx)
	for _, d := range drift {
		if d.Err != nil {
			e.t.Fatalf("drift check of %s: %v", d.Tenant, d.Err)
		}
	}
	return res, drift
}

// quiet waits until every request of the env's agents has been answered and returns the
// apiserver's request counters. Each agent was closed after its pass, so it sends no
// more: from then on nothing in this cluster writes but the test itself.
func (e *env) quiet(t *testing.T) map[string]float64 {
	t.Helper()
	e.requests.WaitAnswered(t)
	return scrapeRequests(t)
}

// diffUser is the identity `tenantry diff` runs as in these tests: a user of its own with a
// ClusterRole that grants reads plus what a server-side dry-run apply is authorized as
// (patch, and create when the apply would create the object). It has no update, delete,
// deletecollection, status subresource or events rights.
const diffUser = "tenantry-diff"

// dryRunVerbs are what a server-side dry-run apply is authorized as: patch, and create
// for an apply that would create the object.
var dryRunVerbs = []string{"patch", "create"}

// grantDiffUser creates the diff user's ClusterRole and binding (as admin).
func grantDiffUser(t *testing.T) {
	t.Helper()
	cs := host.Clientset(t)
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: diffUser},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"namespaces", "resourcequotas", "limitranges"}, Verbs: dryRunVerbs},
			{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: dryRunVerbs},
			{APIGroups: []string{"tenantry.dev"}, Resources: []string{"tenants"}, Verbs: dryRunVerbs},
			{APIGroups: []string{"templates.gatekeeper.sh"}, Resources: []string{"constrainttemplates"}, Verbs: dryRunVerbs},
			{APIGroups: []string{"constraints.gatekeeper.sh"}, Resources: []string{"*"}, Verbs: dryRunVerbs},
		},
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: diffUser},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: diffUser},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: diffUser}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// request is one request the diff command sent.
type request struct {
	Method, Path string
	Query        url.Values
}

func (r request) String() string { return r.Method + " " + r.Path + "?" + r.Query.Encode() }

// recordingProxy forwards the diff command's requests to the apiserver as the diff user
// and records each of them.
type recordingProxy struct {
	kubeconfig string
	mu         sync.Mutex
	requests   []request
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	t.Helper()
	cfg, err := host.ConfigFor(diffUser)
	if err != nil {
		t.Fatal(err)
	}
	upstream, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{}
	fwd := httputil.NewSingleHostReverseProxy(target)
	fwd.Transport = upstream
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()})
		p.mu.Unlock()
		fwd.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	if p.kubeconfig, err = host.WriteKubeconfig(&rest.Config{Host: srv.URL}, "diff-proxy.kubeconfig"); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *recordingProxy) take() []request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.requests
	p.requests = nil
	return out
}

// series is one apiserver_request_total series: its labels, and its value.
type series map[string]string

var (
	requestTotal = regexp.MustCompile(`^apiserver_request_total\{(.*)\} (\S+)$`)
	labelPair    = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
)

// scrapeRequests reads apiserver_request_total from the apiserver's /metrics (as admin),
// keyed by the series' labels.
func scrapeRequests(t *testing.T) map[string]float64 {
	t.Helper()
	body, err := host.Clientset(t).Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		m := requestTotal.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[m[1]] = v
	}
	if len(out) == 0 {
		t.Fatal("no apiserver_request_total in /metrics")
	}
	return out
}

func labels(key string) series {
	s := series{}
	for _, m := range labelPair.FindAllStringSubmatch(key, -1) {
		s[m[1]] = m[2]
	}
	return s
}

var mutatingVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "APPLY": true, "DELETE": true, "DELETECOLLECTION": true}

// writes keeps the series of mutating requests that are not dry-runs. Leases are left out:
// kube-apiserver renews its own identity lease every few seconds, whoever else is idle.
func writes(all map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range all {
		l := labels(k)
		if mutatingVerbs[l["verb"]] && l["dry_run"] == "" && l["resource"] != "leases" {
			out[k] = v
		}
	}
	return out
}

// dryRuns sums the dry-run requests by verb.
func dryRuns(all map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range all {
		if l := labels(k); l["dry_run"] != "" {
			out[l["verb"]] += v
		}
	}
	return out
}
