package syncer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/standin"
	"github.com/tenantry/tenantry/syncer"
	"github.com/tenantry/tenantry/test/framework"
)

// tenant is one virtual cluster with its syncer running against a host namespace.
type tenant struct {
	name, hostNS string
	virtual      *framework.Cluster
	v, h         kubernetes.Interface
	cfg          syncer.Config
	stop         func()
}

// newTenant starts a virtual cluster and a host namespace with a namespaced Role for the syncer.
func newTenant(t *testing.T, name string, pods v1alpha1.PodPolicy) *tenant {
	t.Helper()
	v := startVirtual(t)
	hostNS := host.NewNamespace(t)
	hostCfg, err := host.ConfigFor("syncer-" + name)
	if err != nil {
		t.Fatal(err)
	}
	grantSyncerRole(t, hostNS, "syncer-"+name)
	ca, err := os.ReadFile(filepath.Join(v.Dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	tn := &tenant{name: name, hostNS: hostNS, virtual: v, v: v.Clientset(t), h: host.Clientset(t),
		cfg: syncer.Config{Virtual: v.Config, Host: hostCfg, Name: name, HostNamespace: hostNS, Pods: pods,
			ServiceHost: "10.96.100.1", ServicePort: 443, DNSServer: "10.96.100.2", VirtualCA: ca}}
	playKubelet(t, tn.h, hostNS)
	return tn
}

// grantSyncerRole gives user a Role limited to the host namespace: all the syncer may do.
func grantSyncerRole(t *testing.T, ns, user string) {
	t.Helper()
	ctx := context.Background()
	cs := host.Clientset(t)
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "syncer"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Verbs: []string{"*"},
		Resources: []string{"pods", "pods/status", "secrets", "configmaps", "services", "services/status", "endpoints",
			"persistentvolumeclaims", "events"},
	}, {
		// As the chart's tenantry-vcluster-syncer: kubectl debug and in-place resize.
		APIGroups: []string{""}, Verbs: []string{"patch"}, Resources: []string{"pods/ephemeralcontainers", "pods/resize"},
	}, {
		APIGroups: []string{"networking.k8s.io"}, Verbs: []string{"*"}, Resources: []string{"ingresses", "networkpolicies"},
	}}}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating syncer role: %v", err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "syncer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "syncer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating syncer role binding: %v", err)
	}
}

// start runs the syncer until stop is called or the test ends.
func (tn *tenant) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), testr.NewWithOptions(t, testr.Options{Verbosity: 0})))
	done := make(chan error, 1)
	go func() { done <- syncer.Run(ctx, tn.cfg) }()
	tn.stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("syncer returned: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("syncer did not stop within 30s")
		}
	})
	t.Cleanup(tn.stop)
}

// hostName is the host name of a virtual object of this tenant.
func (tn *tenant) hostName(name, ns string) string { return wellknown.HostName(name, ns, tn.name) }

// playKubelet runs the stand-in kubelet of hostNode for the host namespace (it binds the
// pods, marks them Running and Ready and finishes their deletion) until the test ends.
func playKubelet(t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	requireHostNode(t)
	framework.RunKubelet(t, &standin.Kubelet{Client: cs, Node: hostNode, Namespace: ns}, 200*time.Millisecond)
}

// waitEvent waits for a Warning SyncError event on a virtual object whose message contains want.
func waitEvent(t *testing.T, cs kubernetes.Interface, ns, name, want string) {
	t.Helper()
	sel := fields.Set{"involvedObject.name": name, "reason": "SyncError", "type": corev1.EventTypeWarning}.String()
	var last string
	framework.Eventually(t, 60*time.Second, "a SyncError event on "+ns+"/"+name+" containing "+want, func() (bool, error) {
		evs, err := cs.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			last = e.Message
			if strings.Contains(e.Message, want) {
				return true, nil
			}
		}
		return false, errors.New("last message: " + last)
	})
}
