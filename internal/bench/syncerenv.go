package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/internal/localcluster"
)

const (
	// syncerVCluster is the vcluster name the benchmarked syncer runs as.
	syncerVCluster = "bench"
	// syncerHostNS is its namespace on the host.
	syncerHostNS = "bench-syncer"
	// syncerUser is the host identity the syncer authenticates as, bound to a namespaced Role.
	syncerUser = "tenantry-syncer"
	// syncerNode is the host Node the kubelet stand-in binds host pods to.
	syncerNode = "bench-node-1"
)

// syncerEnv is one run's host and virtual control planes, ready for the syncer.
type syncerEnv struct {
	host, virtual     *localcluster.Cluster
	hostCS, virtualCS kubernetes.Interface
}

// newSyncerEnv starts a host (etcd) and a virtual (kine) control plane, neither with a
// controller manager, and prepares what the syncer and the pods need in them.
func newSyncerEnv(ctx context.Context, dir string) (*syncerEnv, error) {
	e := &syncerEnv{}
	var err error
	if e.host, err = localcluster.Start(ctx, localcluster.Options{NoControllerManager: true, Dir: filepath.Join(dir, "host")}); err != nil {
		return nil, fmt.Errorf("starting the host: %w", err)
	}
	if e.virtual, err = localcluster.Start(ctx, localcluster.Options{Storage: localcluster.Kine, NoControllerManager: true, Dir: filepath.Join(dir, "virtual")}); err != nil {
		e.host.Cleanup()
		return nil, fmt.Errorf("starting the virtual control plane: %w", err)
	}
	if err = e.prepare(ctx); err != nil {
		e.cleanup()
		return nil, err
	}
	return e, nil
}

// loadTarget is the run's load: the virtual cluster, the syncer's host namespace, the
// stand-in's Node.
func (e *syncerEnv) loadTarget() loadTarget {
	return loadTarget{host: e.hostCS, virtual: e.virtualCS, hostNS: syncerHostNS, node: syncerNode, origin: tenantryOrigin}
}

func (e *syncerEnv) cleanup() {
	e.virtual.Cleanup()
	e.host.Cleanup()
}

// prepare makes the clients, the host Node, namespace and Role, and the default
// ServiceAccounts pods need (no controller manager creates them).
func (e *syncerEnv) prepare(ctx context.Context) error {
	var err error
	if e.hostCS, err = loadClient(e.host.Config); err != nil {
		return err
	}
	if e.virtualCS, err = loadClient(e.virtual.Config); err != nil {
		return err
	}
	h := e.hostCS.CoreV1()
	if _, err := h.Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: syncerNode}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the host node: %w", err)
	}
	if _, err := h.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: syncerHostNS}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the host namespace: %w", err)
	}
	if err := createDefaultSA(ctx, e.hostCS, syncerHostNS); err != nil {
		return err
	}
	if err := createDefaultSA(ctx, e.virtualCS, metav1.NamespaceDefault); err != nil {
		return err
	}
	return grantSyncer(ctx, e.hostCS)
}

// loadClient is a clientset for the bench's own load, not limited below the syncer's pace.
func loadClient(cfg *rest.Config) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = 500, 1000
	// Deleting a load's 1,000 pods in one request outlasts a readiness probe's timeout
	// (the vcluster peer's config has 5 s): the load's own requests get minutes.
	c.Timeout = 2 * time.Minute
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	return cs, nil
}

func createDefaultSA(ctx context.Context, cs kubernetes.Interface, ns string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating ServiceAccount %s/default: %w", ns, err)
	}
	return nil
}

// grantSyncer binds syncerUser to a Role in the host namespace: all the syncer may do there.
func grantSyncer(ctx context.Context, cs kubernetes.Interface) error {
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "syncer"}, Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Verbs: []string{"*"},
		Resources: []string{"pods", "pods/status", "secrets", "configmaps", "services", "services/status", "endpoints",
			"persistentvolumeclaims", "events"},
	}, {
		APIGroups: []string{"networking.k8s.io"}, Verbs: []string{"*"}, Resources: []string{"ingresses", "networkpolicies"},
	}}}
	if _, err := cs.RbacV1().Roles(syncerHostNS).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the syncer's Role: %w", err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "syncer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "syncer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: syncerUser}}}
	if _, err := cs.RbacV1().RoleBindings(syncerHostNS).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the syncer's RoleBinding: %w", err)
	}
	return nil
}

// writeSyncerConfig writes the kubeconfigs and the config file of the syncer's process.
func (e *syncerEnv) writeSyncerConfig(dir string, hostQPS float32) (string, error) {
	hostCfg, err := e.host.ConfigFor(syncerUser)
	if err != nil {
		return "", err
	}
	virtualCfg, err := e.virtual.ConfigFor(syncerUser, "system:masters")
	if err != nil {
		return "", err
	}
	c := syncerChildConfig{Name: syncerVCluster, HostNamespace: syncerHostNS, HostQPS: hostQPS, HostBurst: int(2 * hostQPS)}
	if c.HostKubeconfig, err = e.host.WriteKubeconfig(hostCfg, "syncer.kubeconfig"); err != nil {
		return "", err
	}
	if c.VirtualKubeconfig, err = e.virtual.WriteKubeconfig(virtualCfg, "syncer.kubeconfig"); err != nil {
		return "", err
	}
	if c.VirtualCA, err = os.ReadFile(filepath.Join(e.virtual.Dir, "ca.crt")); err != nil {
		return "", fmt.Errorf("reading the virtual CA: %w", err)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding the syncer's config: %w", err)
	}
	path := filepath.Join(dir, "syncer.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}
