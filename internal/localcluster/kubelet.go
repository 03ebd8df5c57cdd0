package localcluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/freeport"
)

// kubeletConfig is the KubeletConfiguration: cgroupfs under the node's own cgroup root,
// the node's containerd, no swap check, no node-allocatable enforcement, anonymous
// AlwaysAllow on the kubelet API (reachable only through the node's veth) and
// eviction thresholds low enough that a busy disk never evicts test pods.
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: %[1]s
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://%[2]s
address: %[3]s
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
enforceNodeAllocatable: []
localStorageCapacityIsolation: false
podLogsDir: %[4]s
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: "1Mi", nodefs.available: "1%%", imagefs.available: "1%%", nodefs.inodesFree: "1%%", imagefs.inodesFree: "1%%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
`

// startKubelet starts the kubelet inside the node's namespace and waits until the Node is Ready.
func (n *node) startKubelet(ctx context.Context, c *Cluster) error {
	bin, err := binary(nodeComponent, "kubelet")
	if err != nil {
		return err
	}
	if err := n.makeCgroupRoot(); err != nil {
		return err
	}
	cfg := fmt.Sprintf(kubeletConfig, n.cgroupRoot, n.socket(), n.ns.nodeIP, n.path("pod-logs"))
	if err := os.WriteFile(n.path("kubelet.yaml"), []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("writing kubelet config: %w", err)
	}
	kubeconfig, err := c.kubeconfigFor("system:node:"+NodeName, "kubelet.kubeconfig", "system:nodes")
	if err != nil {
		return err
	}
	name, args := n.ns.exec(bin, "--config="+n.path("kubelet.yaml"), "--kubeconfig="+kubeconfig,
		"--hostname-override="+NodeName, "--node-ip="+n.ns.nodeIP, "--root-dir="+n.path("kubelet"),
		"--cert-dir="+n.path("kubelet/pki"), "--v=1")
	p, err := startProcess("kubelet", n.dir, name, args)
	if err != nil {
		return err
	}
	n.procs = append(n.procs, p)
	return waitNodeReady(ctx, c, p)
}

// makeCgroupRoot creates the node's cgroup root in every v1 hierarchy (the kubelet
// refuses a cgroup root that does not exist), keeping its pods apart from other nodes'.
func (n *node) makeCgroupRoot() error {
	for _, ctl := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified"} {
		dir := "/sys/fs/cgroup/" + ctl
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		if err := os.MkdirAll(dir+n.cgroupRoot, 0o755); err != nil {
			return fmt.Errorf("creating cgroup %s: %w", dir+n.cgroupRoot, err)
		}
	}
	return nil
}

func waitNodeReady(ctx context.Context, c *Cluster, p *process) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	return waitFor(ctx, p, "node "+NodeName+" Ready", func(ctx context.Context) error {
		node, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return errNotReady
	})
}

// kubeProxyConfig runs kube-proxy in iptables mode; conntrack sysctls are left alone
// (they are the machine's, not the namespace's).
const kubeProxyConfig = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: %[1]s}
hostnameOverride: %[2]s
clusterCIDR: %[3]s
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`

// startKubeProxy starts kube-proxy inside the node's namespace.
func (n *node) startKubeProxy(c *Cluster) error {
	bin, err := binary(nodeComponent, "kube-proxy")
	if err != nil {
		return err
	}
	kubeconfig, err := c.kubeconfigFor("system:kube-proxy", "kube-proxy.kubeconfig")
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(kubeProxyConfig, kubeconfig, NodeName, PodCIDR)
	if err := os.WriteFile(n.path("kube-proxy.yaml"), []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("writing kube-proxy config: %w", err)
	}
	name, args := n.ns.exec(bin, "--config="+n.path("kube-proxy.yaml"))
	p, err := startProcess("kube-proxy", n.dir, name, args)
	if err != nil {
		return err
	}
	n.procs = append(n.procs, p)
	return nil
}

// startScheduler starts kube-scheduler on the machine's loopback.
func (n *node) startScheduler(c *Cluster) error {
	bin, err := binary(nodeComponent, "kube-scheduler")
	if err != nil {
		return err
	}
	kubeconfig, err := c.kubeconfigFor("system:kube-scheduler", "kube-scheduler.kubeconfig")
	if err != nil {
		return err
	}
	port, err := freeport.Pick()
	if err != nil {
		return err
	}
	p, err := startProcess("kube-scheduler", n.dir, bin, []string{
		"--kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig, "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(port),
	})
	if err != nil {
		return err
	}
	n.procs = append(n.procs, p)
	return nil
}

// kubeconfigFor writes a kubeconfig with a client certificate for user in groups.
func (c *Cluster) kubeconfigFor(user, file string, groups ...string) (string, error) {
	cfg, err := c.ConfigFor(user, groups...)
	if err != nil {
		return "", err
	}
	return c.WriteKubeconfig(cfg, file)
}
