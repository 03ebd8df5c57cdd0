package bench

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// vclusterPeer is one loft-sh vcluster on the real node: its chart rendered with the
// benchmark's values (vclusterChanges) and applied to its own host namespace. The workload
// drivers run against it as against a tenantry tenant.
type vclusterPeer struct {
	c       *localcluster.Cluster
	cs      kubernetes.Interface
	name    string
	ns      string
	objs    []*unstructured.Unstructured
	virtual *rest.Config
}

// newVClusterPeer renders the chart for a vcluster called name in the host namespace
// vcluster-<name>. The peer's image must be imported (importVClusterImage).
func newVClusterPeer(c *localcluster.Cluster, name string) (*vclusterPeer, error) {
	dir, err := vclusterComponent()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return nil, fmt.Errorf("host client: %w", err)
	}
	p := &vclusterPeer{c: c, cs: cs, name: name, ns: "vcluster-" + name}
	if p.objs, err = renderVCluster(filepath.Join(dir, "chart"), name, p.ns); err != nil {
		return nil, err
	}
	return p, nil
}

// Name is the vcluster's name (its Helm release), which its host pods' names end with.
func (p *vclusterPeer) Name() string { return p.name }

// HostNamespace is where its control plane and synced workloads run on the host.
func (p *vclusterPeer) HostNamespace() string { return p.ns }

// controlPlanePod is the name of the running pod of its chart's Deployment (a
// StatefulSet only with a volume claim, which the benchmark turns off).
func (p *vclusterPeer) controlPlanePod(ctx context.Context) (*corev1.Pod, error) {
	list, err := p.cs.CoreV1().Pods(p.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=vcluster,release=" + p.name})
	if err != nil {
		return nil, fmt.Errorf("listing vcluster's pods: %w", err)
	}
	for i := range list.Items {
		if pod := &list.Items[i]; pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP != "" {
			return pod, nil
		}
	}
	return nil, fmt.Errorf("no running vcluster pod among %d", len(list.Items))
}

// Virtual is the client config of the running vcluster (nil before Start), from its own
// kubeconfig Secret, dialled to its pod inside the node.
func (p *vclusterPeer) Virtual() *rest.Config { return p.virtual }

// Start creates the host namespace, applies the rendered chart and returns the time from
// the apply to the virtual API answering a request through the vcluster's own kubeconfig.
func (p *vclusterPeer) Start(ctx context.Context) (time.Duration, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.ns}}
	if _, err := p.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return 0, fmt.Errorf("creating namespace %s: %w", p.ns, err)
	}
	began := time.Now()
	if err := applyObjects(ctx, p.c.Config, p.objs); err != nil {
		return 0, fmt.Errorf("applying vcluster's chart: %w", err)
	}
	err := pollUntil(ctx, "vcluster's API to answer through its kubeconfig", func(ctx context.Context) (bool, error) {
		cfg, err := p.kubeconfig(ctx)
		if err != nil {
			return false, err
		}
		vc, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return false, err
		}
		if _, err := vc.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return false, err
		}
		p.virtual = cfg
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, podDiagnosis(ctx, p.cs, p.ns))
	}
	return time.Since(began), nil
}

// kubeconfig reads the Secret vc-<name> vcluster writes (server https://localhost:8443)
// and dials that port on its pod inside the node instead, as a port-forward would.
func (p *vclusterPeer) kubeconfig(ctx context.Context) (*rest.Config, error) {
	s, err := p.cs.CoreV1().Secrets(p.ns).Get(ctx, "vc-"+p.name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading vcluster's kubeconfig Secret: %w", err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data["config"])
	if err != nil {
		return nil, fmt.Errorf("parsing vcluster's kubeconfig: %w", err)
	}
	u, err := url.Parse(cfg.Host)
	if err != nil {
		return nil, fmt.Errorf("parsing vcluster's API URL: %w", err)
	}
	pod, err := p.controlPlanePod(ctx)
	if err != nil {
		return nil, err
	}
	target := net.JoinHostPort(pod.Status.PodIP, u.Port())
	cfg.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return p.c.DialNode(ctx, network, target)
	}
	cfg.Timeout = 5 * time.Second
	return cfg, nil
}

// RSS is the control plane pod's resident memory in MiB, measured as tenantry's is
// (total_rss of its containers' memory cgroups).
func (p *vclusterPeer) RSS(ctx context.Context) (float64, error) {
	pod, err := p.controlPlanePod(ctx)
	if err != nil {
		return 0, err
	}
	rss, err := p.c.PodRSS(ctx, p.ns, pod.Name)
	return float64(rss) / (1 << 20), err
}

// Stop deletes the host namespace and the chart's cluster-scoped objects, and waits until
// the namespace and its containers are gone.
func (p *vclusterPeer) Stop(ctx context.Context) error {
	if err := deleteClusterScoped(ctx, p.c.Config, p.objs); err != nil {
		return err
	}
	err := p.cs.CoreV1().Namespaces().Delete(ctx, p.ns, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting namespace %s: %w", p.ns, err)
	}
	return pollUntil(ctx, "namespace "+p.ns+" and its containers to go", func(ctx context.Context) (bool, error) {
		if _, err := p.cs.CoreV1().Namespaces().Get(ctx, p.ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("namespace still there (err %w)", err)
		}
		list, err := p.c.RunningContainers(ctx, p.ns)
		return err == nil && len(list) == 0, fmt.Errorf("%d containers (err %w)", len(list), err)
	})
}
