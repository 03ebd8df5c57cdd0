package ops_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/cli"
	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/test/cluster"
)

var host *cluster.Cluster

func TestMain(m *testing.M) {
	cluster.Main(m, cluster.Options{AuditLog: true}, &host)
}

// tenantYAML is a small tenant file.
func tenantYAML(name, pods string) string {
	return fmt.Sprintf(`apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: %s
spec:
  owners:
  - {kind: User, name: %s-owner}
  quota: {pods: "%s", cpu: "4"}
  limits:
    default: {cpu: 500m}
`, name, name, pods)
}

// newRepo is a tenants repo with one commit of the named tenants.
func newRepo(t *testing.T, pods string, names ...string) *localrepo.Repo {
	t.Helper()
	repo, err := localrepo.Init(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	commit(t, repo, pods, names...)
	return repo
}

func commit(t *testing.T, repo *localrepo.Repo, pods string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := repo.Write("tenants/"+n+".yaml", []byte(tenantYAML(n, pods))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := repo.Commit("pods " + pods); err != nil {
		t.Fatal(err)
	}
}

// agentProc is one `tenantry agent` run in-process through the CLI, as the binary runs.
type agentProc struct {
	metricsURL, healthURL string
	logs                  *syncBuffer
	cancel                context.CancelFunc
	done                  chan error
}

// startAgent runs `tenantry agent` with args plus free health and metrics addresses.
// Its tenants are removed from the host when the test ends.
func startAgent(t *testing.T, args ...string) *agentProc {
	t.Helper()
	metricsAddr, healthAddr := freeAddr(t), freeAddr(t)
	p := &agentProc{metricsURL: "http://" + metricsAddr + "/metrics", healthURL: "http://" + healthAddr,
		logs: &syncBuffer{}, done: make(chan error, 1)}
	root := cli.NewRoot(p.logs, p.logs)
	root.SetArgs(append([]string{"agent", "--metrics-addr", metricsAddr, "--health-addr", healthAddr,
		"--interval", "500ms", "--drift-interval", "1s", "--health-timeout", "30s", "--work-dir", t.TempDir(),
		// The test bed has no kubelet to run virtual clusters; these tests are about the agent.
		"--virtual-clusters=false"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		_ = p.stop(t) // the test checks the error where it matters
		if t.Failed() {
			t.Logf("agent logs:\n%s", p.logs.String())
		}
	})
	return p
}

// stop cancels the agent and waits for it to return; it is safe to call twice.
func (p *agentProc) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err, ok := <-p.done:
		if ok {
			close(p.done)
		}
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not stop within 30s")
	}
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// scrape reads the agent's /metrics over HTTP.
func scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url) //nolint:noctx // a test scrape
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// value is the value of the sample of family name whose labels include labels (a
// counter, gauge, or a histogram's sample count); ok is false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, kv []string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if have[kv[i]] != kv[i+1] {
			return false
		}
	}
	return true
}

// waitMetric waits until cond holds for the sample of name with labels.
func waitMetric(t *testing.T, p *agentProc, what, name string, cond func(float64) bool, labels ...string) {
	t.Helper()
	cluster.Eventually(t, 90*time.Second, what, func() (bool, error) {
		fams, err := scrape(p.metricsURL)
		if err != nil {
			return false, err
		}
		v, ok := value(fams, name, labels...)
		return ok && cond(v), fmt.Errorf("%s%v = %v (present %v)", name, labels, v, ok)
	})
}

// logLines are the agent's JSON log lines with message msg.
func logLines(p *agentProc, msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.logs.String()))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cleanupTenants removes the host Tenants when the test ends, so the next test's agent
// (same instance) does not see them as removed from its repo.
func cleanupTenants(t *testing.T) {
	t.Cleanup(func() {
		c, err := client.New(host.Config, client.Options{})
		if err != nil {
			t.Log(err)
			return
		}
		all, err := reconciler.ListTenants(context.Background(), c)
		if err != nil {
			t.Log(err)
			return
		}
		for i := range all {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(reconciler.TenantGVK)
			u.SetName(all[i].Name)
			if err := c.Delete(context.Background(), u); err != nil {
				t.Logf("deleting tenant %s: %v", all[i].Name, err)
			}
		}
	})
}

// tenantStatus reads a host Tenant's status.
func tenantStatus(t *testing.T, name string) v1alpha1.TenantStatus {
	t.Helper()
	c, err := client.New(host.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := reconciler.ListTenants(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range all {
		if tn.Name == name {
			return tn.Status
		}
	}
	t.Fatalf("no tenant %s", name)
	return v1alpha1.TenantStatus{}
}

// adminUser mints a cluster-admin user (by ClusterRoleBinding, not system:masters) and
// returns a kubeconfig for it, so the audit log tells its requests apart.
func adminUser(t *testing.T, user string) string {
	t.Helper()
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "ops-test-" + user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}}}
	cs := host.Clientset(t)
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(context.Background(), crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb.Name, metav1.DeleteOptions{})
	})
	cfg, err := host.ConfigFor(user)
	if err != nil {
		t.Fatal(err)
	}
	path, err := host.WriteKubeconfig(cfg, "kubeconfig-"+user)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// auditWrites counts user's completed, non-dry-run writes other than to Leases (the
// election itself), from the test bed's audit log.
func auditWrites(t *testing.T, user string) int {
	t.Helper()
	data, err := os.ReadFile(host.AuditLogPath)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range bytes.Split(data, []byte("\n")) {
		var e struct {
			Stage, Verb, RequestURI string
			User                    struct{ Username string }
		}
		if json.Unmarshal(line, &e) != nil || e.Stage != "ResponseComplete" || e.User.Username != user {
			continue
		}
		if strings.Contains(e.RequestURI, "dryRun=") || strings.Contains(e.RequestURI, "/apis/coordination.k8s.io/") {
			continue
		}
		switch e.Verb {
		case "create", "update", "patch", "delete", "deletecollection":
			n++
		}
	}
	return n
}

// hookServer answers notifications with status and records the events it got.
type hookServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newHookServer(t *testing.T, status int) *hookServer {
	h := &hookServer{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, buf.Bytes())
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookServer) received() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}
