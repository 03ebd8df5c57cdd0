package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/reconciler/render"
)

// virtualClient is a client of the tenant's virtual cluster (see virtualConfig).
func (b *nodeBench) virtualClient(ctx context.Context, tn *v1alpha1.Tenant) (kubernetes.Interface, error) {
	cfg, err := b.virtualConfig(ctx, tn)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// virtualConfig reads the tenant's config-local kubeconfig (server https://127.0.0.1:PORT,
// for a port-forward) and dials PORT on the control plane pod inside the node instead.
func (b *nodeBench) virtualConfig(ctx context.Context, tn *v1alpha1.Tenant) (*rest.Config, error) {
	ns := tn.HostNamespace()
	s, err := b.cs.CoreV1().Secrets(ns).Get(ctx, render.KubeconfigSecretName(tn), metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the tenant's kubeconfig: %w", err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data[wellknown.SecretKeyConfigLocal])
	if err != nil {
		return nil, fmt.Errorf("parsing the tenant's kubeconfig: %w", err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("parsing the virtual API URL: %w", err)
	}
	pod, err := b.cs.CoreV1().Pods(ns).Get(ctx, render.VClusterName(tn)+"-0", metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the control plane pod: %w", err)
	}
	target := net.JoinHostPort(pod.Status.PodIP, u.Port())
	cfg.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return b.c.DialNode(ctx, network, target)
	}
	return cfg, nil
}

// deploy creates the echo Deployment in a virtual cluster (tenantry's or the vcluster
// peer's) and returns the time until its pods are Running and Ready there and their
// containers run on the node.
func deploy(ctx context.Context, c *localcluster.Cluster, virtual kubernetes.Interface, ns, vcluster string) (time.Duration, error) {
	began := time.Now()
	if _, err := virtual.AppsV1().Deployments("default").Create(ctx, localcluster.EchoDeployment(nodeReplicas), metav1.CreateOptions{}); err != nil {
		return 0, fmt.Errorf("creating the virtual Deployment: %w", err)
	}
	var pods []corev1.Pod
	err := pollUntil(ctx, "virtual pods Running and Ready", func(ctx context.Context) (bool, error) {
		list, err := virtual.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=echo"})
		if err != nil {
			return false, err
		}
		pods = list.Items
		ready := localcluster.RunningReady(pods)
		return ready == nodeReplicas && len(pods) == nodeReplicas, fmt.Errorf("%d of %d ready", ready, len(pods))
	})
	if err == nil {
		err = pollUntil(ctx, "the echo containers running on the node", func(ctx context.Context) (bool, error) {
			return containersRunning(ctx, c, ns, vcluster, pods)
		})
	}
	return time.Since(began), err
}

// containersRunning reports whether the node runs the echo container of each virtual pod's
// host pod.
func containersRunning(ctx context.Context, c *localcluster.Cluster, ns, vcluster string, pods []corev1.Pod) (bool, error) {
	running, err := c.RunningContainers(ctx, ns)
	if err != nil {
		return false, err
	}
	have := map[string]bool{}
	for _, ctr := range running {
		have[ctr.Pod+"/"+ctr.Name] = true
	}
	for _, p := range pods {
		if host := wellknown.HostName(p.Name, p.Namespace, vcluster); !have[host+"/echo"] {
			return false, fmt.Errorf("no running echo container of %s among %d", host, len(running))
		}
	}
	return true, nil
}

// pollUntil polls cond every 200 ms for up to nodeWait; on timeout it names what it waited
// for and cond's last reason.
func pollUntil(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	return pollFor(ctx, nodeWait, what, cond)
}

// pollFor is pollUntil for up to timeout.
func pollFor(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) (bool, error)) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		ok, why := cond(ctx)
		last = why
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %s: %w (last: %w)", what, err, last)
	}
	return nil
}
