package vcluster_test

import (
	"os"
	"path/filepath"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/tenantry/tenantry/controlplane"
)

// chartConfig reads the vcluster.yaml the chart rendered into the tenant's ConfigMap,
// strictly, as the pod's LoadConfig does.
func chartConfig(t *testing.T, ns, fullname string) controlplane.Config {
	t.Helper()
	cm, err := host.Clientset(t).CoreV1().ConfigMaps(ns).Get(ctx, fullname+"-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, ok := cm.Data["vcluster.yaml"]
	if !ok {
		t.Fatalf("ConfigMap %s-config has no vcluster.yaml: %v", fullname, cm.Data)
	}
	var cfg controlplane.Config
	if err := yaml.UnmarshalStrict([]byte(data), &cfg); err != nil {
		t.Fatalf("the chart's vcluster.yaml does not parse as controlplane.Config: %v\n%s", err, data)
	}
	return cfg
}

// chartVCluster prepares tenantry-vcluster as the chart's pod runs it: the chart's config,
// except the data and binary directories and the ports (free loopback ports, since every
// test shares one host network); the identity of the chart's ServiceAccount, so only its
// namespaced Role applies; POD_NAMESPACE and POD_IP as the chart's env sets them.
func chartVCluster(t *testing.T, cfg controlplane.Config, version, serviceAccount, podIP string) *vcluster {
	t.Helper()
	ns := cfg.HostNamespace
	dir := t.TempDir()
	cfg.DataDir, cfg.BinDir = filepath.Join(dir, "data"), binDir(t, version)
	cfg.APIPort, cfg.DNSPort, cfg.ProbePort = freePort(t), freePort(t), freePort(t)
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(dir, "vcluster.yaml")
	if err := os.WriteFile(configPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	user := "system:serviceaccount:" + ns + ":" + serviceAccount
	sa, err := host.ConfigFor(user, "system:serviceaccounts", "system:serviceaccounts:"+ns, "system:authenticated")
	if err != nil {
		t.Fatal(err)
	}
	requireNamespaced(t, sa, ns)
	kubeconfig, err := host.WriteKubeconfig(sa, "sa-"+ns+".kubeconfig")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := host.Clientset(t).CoreV1().Services(ns).Get(ctx, cfg.ServiceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The child inherits the environment; the subtests that use this do not run in parallel.
	t.Setenv("POD_NAMESPACE", ns)
	t.Setenv("POD_IP", podIP)
	v := &vcluster{t: t, cfg: cfg, configPath: configPath, kubeconfig: kubeconfig,
		logPath: filepath.Join(dir, "vcluster.log"), serviceIP: svc.Spec.ClusterIP}
	t.Cleanup(v.kill)
	return v
}

// requireNamespaced checks the identity can list pods in ns (the chart's Role) and
// nothing outside it: the process runs without admin rights.
func requireNamespaced(t *testing.T, cfg *rest.Config, ns string) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("the chart's ServiceAccount cannot list pods in %s: %v", ns, err)
	}
	if _, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the chart's ServiceAccount lists pods in kube-system: %v, want Forbidden", err)
	}
	if _, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("the chart's ServiceAccount lists nodes: %v, want Forbidden", err)
	}
}
