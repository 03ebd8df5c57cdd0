package agent_test

import (
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// TestSyncersAreFlowsOfTheirOwn backs what docs/security.md says of host fairness: the
// host API server's Priority and Fairness puts a tenant's syncer (its namespace's
// vc-<tenant> ServiceAccount) in FlowSchema service-accounts, priority level workload-low,
// with one flow per user, so a tenant's syncer at its full host rate queues behind its own
// requests, not in front of another tenant's or the host's controllers'.
func TestSyncersAreFlowsOfTheirOwn(t *testing.T) {
	admin := host.Clientset(t).FlowcontrolV1()
	fs, err := admin.FlowSchemas().Get(ctx, "service-accounts", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := admin.PriorityLevelConfigurations().Get(ctx, "workload-low", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := fs.Spec.DistinguisherMethod; d == nil || d.Type != "ByUser" {
		t.Errorf("FlowSchema service-accounts distinguishes flows by %+v, want ByUser", d)
	}
	for _, tenant := range []string{"fair-a", "fair-b"} {
		ns, sa := "tenant-"+tenant, "vc-"+tenant
		cfg, err := host.ConfigFor("system:serviceaccount:"+ns+":"+sa, "system:serviceaccounts", "system:serviceaccounts:"+ns)
		if err != nil {
			t.Fatal(err)
		}
		gotFS, gotPL := flowOf(t, cfg, "/api/v1/namespaces/"+ns+"/pods")
		if gotFS != string(fs.UID) || gotPL != string(pl.UID) {
			t.Errorf("%s's syncer: FlowSchema %s, priority level %s; want service-accounts (%s), workload-low (%s)",
				tenant, gotFS, gotPL, fs.UID, pl.UID)
		}
	}
}

// flowOf makes a GET as cfg and returns the FlowSchema and priority level UIDs the API
// server classified it under (its response headers; the answer itself may be a 403).
func flowOf(t *testing.T, cfg *rest.Config, path string) (string, string) {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	return resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID"), resp.Header.Get("X-Kubernetes-PF-PriorityLevel-UID")
}
