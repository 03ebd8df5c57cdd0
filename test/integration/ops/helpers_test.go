package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler/status"
	"github.com/tenantry/tenantry/test/framework"
)

var host *framework.Cluster

func TestMain(m *testing.M) {
	framework.Main(m, localcluster.Options{AuditLog: true}, &host)
}

// newRepo is a tenants repo with one commit of the named tenants.
func newRepo(t *testing.T, pods string, names ...string) *framework.Repo {
	t.Helper()
	repo := framework.NewRepo(t)
	commit(repo, pods, names...)
	return repo
}

// commit writes the named tenants, each with a quota of pods, and commits them.
func commit(repo *framework.Repo, pods string, names ...string) {
	for _, n := range names {
		repo.Write(n, framework.TenantYAML(n, framework.Pods(pods)))
	}
	repo.Commit("pods " + pods)
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
		all, err := status.ListTenants(context.Background(), c)
		if err != nil {
			t.Log(err)
			return
		}
		for i := range all {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(status.TenantGVK)
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
	return framework.RequireTenant(t, c, name).Status
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
