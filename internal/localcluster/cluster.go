package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/freeport"
	"github.com/tenantry/tenantry/internal/pki"
)

// Storage is the backend behind kube-apiserver.
type Storage string

const (
	// Etcd is a real etcd, as a host cluster runs.
	Etcd Storage = "etcd"
	// Kine is kine over SQLite, as a tenant's virtual control plane runs.
	Kine Storage = "kine"
)

// Options configures a control plane.
type Options struct {
	// KubernetesVersion picks the pinned kube-apiserver; HostKubernetesVersion() if empty.
	KubernetesVersion string
	// Storage is Etcd (default) or Kine.
	Storage Storage
	// NoControllerManager skips kube-controller-manager.
	NoControllerManager bool
	// Gatekeeper also starts OPA Gatekeeper as the validating webhook.
	Gatekeeper bool
	// Dir holds certificates, data and logs; a new temp dir if empty.
	Dir string
	// AuditLog makes kube-apiserver write a Metadata-level audit log to AuditLogPath.
	AuditLog bool
	// Profiling serves kube-apiserver's /debug/pprof (to system:masters), for the benchmark's profiles.
	Profiling bool
	// Controllers is kube-controller-manager's --controllers list; ["*"] if empty.
	// A virtual cluster's test bed turns off the node lifecycle controller, as vcluster does.
	Controllers []string
	// Node adds a real node (containerd, kubelet, kube-proxy, kube-scheduler) in a network
	// namespace of its own; kube-apiserver then listens on the namespace's veth address.
	// It needs root and NodeAvailable() to hold.
	Node bool
}

// Cluster is a running control plane.
type Cluster struct {
	// Config is an admin (system:masters) client config.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig file.
	Kubeconfig string
	// Dir holds certificates, data and logs.
	Dir string
	// StartupTime is how long the control plane took to become ready.
	StartupTime time.Duration
	// Version is the Kubernetes version of kube-apiserver.
	Version string
	// Phases records when each component became ready, since the start.
	Phases []Phase
	// AuditLogPath is the audit log, when Options.AuditLog is set.
	AuditLogPath string

	ca                   *pki.CA
	host                 string
	hasControllerManager bool
	procs                []*process
	node                 *node
	nodeCleanupErr       error
	stopStorage          context.CancelFunc
}

// Phase is one component's readiness time since Start began.
type Phase struct {
	Name  string
	Ready time.Duration
}

// Start starts a control plane and waits until it is ready. On error everything
// started so far is stopped.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	began := time.Now()
	if opts.KubernetesVersion == "" {
		opts.KubernetesVersion = HostKubernetesVersion()
	}
	if opts.Storage == "" {
		opts.Storage = Etcd
	}
	if opts.Dir == "" {
		if opts.Dir, err = os.MkdirTemp("", "tenantry-cluster-"); err != nil {
			return nil, fmt.Errorf("creating cluster dir: %w", err)
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating cluster dir: %w", err)
	}
	c := &Cluster{Dir: opts.Dir, Version: opts.KubernetesVersion}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, c.Logs(40))
			c.Stop()
		}
	}()
	if err := c.writePKI(); err != nil {
		return nil, err
	}
	if opts.Node {
		if err := c.prepareNode(); err != nil {
			return nil, err
		}
	}
	storageURL, err := c.startStorage(opts.Storage)
	if err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx, opts, storageURL); err != nil {
		return nil, err
	}
	c.Phases = append(c.Phases, Phase{"kube-apiserver", time.Since(began)})
	if !opts.NoControllerManager {
		if err := c.startControllerManager(ctx, opts.KubernetesVersion, opts.Controllers); err != nil {
			return nil, err
		}
		c.hasControllerManager = true
		c.Phases = append(c.Phases, Phase{"kube-controller-manager", time.Since(began)})
	}
	if opts.Gatekeeper {
		if err := c.startGatekeeper(ctx); err != nil {
			return nil, err
		}
		c.Phases = append(c.Phases, Phase{"gatekeeper", time.Since(began)})
	}
	if opts.Node {
		if err := c.startNode(ctx, began); err != nil {
			return nil, err
		}
		if err := c.startNodeStorage(ctx); err != nil {
			return nil, err
		}
	}
	c.StartupTime = time.Since(began)
	return c, nil
}

func (c *Cluster) path(name string) string { return filepath.Join(c.Dir, name) }

// HasControllerManager reports whether kube-controller-manager runs (Options.NoControllerManager unset).
func (c *Cluster) HasControllerManager() bool { return c.hasControllerManager }

func (c *Cluster) writePKI() error {
	var err error
	if c.ca, err = newCA("tenantry-test-ca"); err != nil {
		return err
	}
	if err := os.WriteFile(c.path("ca.crt"), c.ca.Pair.CertPEM, 0o600); err != nil {
		return fmt.Errorf("writing CA: %w", err)
	}
	serving, err := issueServing(c.ca, "kube-apiserver", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
	if err != nil {
		return err
	}
	if err := writePair(serving, c.path("apiserver.crt"), c.path("apiserver.key")); err != nil {
		return err
	}
	if err := c.writeFrontProxyPKI(); err != nil {
		return err
	}
	return writeServiceAccountKeys(c.path("sa.key"), c.path("sa.pub"))
}

func (c *Cluster) startStorage(storage Storage) (string, error) {
	port, err := freeport.Pick()
	if err != nil {
		return "", err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	var p *process
	switch storage {
	case Etcd:
		peer, err := freeport.Pick()
		if err != nil {
			return "", err
		}
		bin, err := binary("etcd", "etcd")
		if err != nil {
			return "", err
		}
		peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
		p, err = startProcess("etcd", c.Dir, bin, []string{
			"--data-dir=" + c.path("etcd"), "--listen-client-urls=" + url, "--advertise-client-urls=" + url,
			"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=default=" + peerURL, "--unsafe-no-fsync", "--log-level=warn",
		})
		if err != nil {
			return "", err
		}
	case Kine:
		bin, err := binary("kine", "kine")
		if err != nil {
			return "", err
		}
		p, err = startProcess("kine", c.Dir, bin, []string{
			"--endpoint=" + wellknown.KineSQLite(c.path("kine.db")),
			"--listen-address=127.0.0.1:" + strconv.Itoa(port),
			// Its default :8080 metrics listener would stop a second kine from starting.
			"--metrics-bind-address=0",
		})
		if err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("unknown storage %q", storage)
	}
	c.procs = append(c.procs, p)
	return url, nil
}

func (c *Cluster) startAPIServer(ctx context.Context, opts Options, storageURL string) error {
	bin, err := binary("kubernetes-"+opts.KubernetesVersion, "kube-apiserver")
	if err != nil {
		return err
	}
	port, err := freeport.Pick()
	if err != nil {
		return err
	}
	args := []string{
		"--etcd-servers=" + storageURL, "--secure-port=" + strconv.Itoa(port), "--bind-address=" + c.apiserverAddress(),
		"--advertise-address=" + c.apiserverAddress(), "--cert-dir=" + c.path("apiserver-certs"),
		"--tls-cert-file=" + c.path("apiserver.crt"), "--tls-private-key-file=" + c.path("apiserver.key"),
		"--client-ca-file=" + c.path("ca.crt"), "--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc", "--service-account-key-file=" + c.path("sa.pub"),
		"--service-account-signing-key-file=" + c.path("sa.key"), "--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true", "--kubelet-preferred-address-types=InternalIP", "--profiling=" + strconv.FormatBool(opts.Profiling),
	}
	args = append(args, c.aggregatorArgs()...)
	if c.node == nil {
		// 1.37 refuses a loopback advertise address with the lease endpoint reconciler.
		args = append(args, "--endpoint-reconciler-type=none")
	}
	if opts.AuditLog {
		auditArgs, err := c.auditArgs()
		if err != nil {
			return err
		}
		args = append(args, auditArgs...)
	}
	p, err := startProcess("kube-apiserver", c.Dir, bin, args)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	c.host = "https://" + c.apiserverAddress() + ":" + strconv.Itoa(port)
	if c.Config, err = c.ConfigFor("tenantry-admin", "system:masters"); err != nil {
		return err
	}
	if c.Kubeconfig, err = c.WriteKubeconfig(c.Config, "admin.kubeconfig"); err != nil {
		return err
	}
	return c.waitReady(ctx, p)
}

func (c *Cluster) waitReady(ctx context.Context, p *process) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return waitFor(ctx, p, "kube-apiserver /readyz", func(ctx context.Context) error {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(body)))
		}
		return nil
	})
}

// ConfigFor mints a client config authenticated by a client certificate for user
// in groups, so tests see the cluster as that user would.
func (c *Cluster) ConfigFor(user string, groups ...string) (*rest.Config, error) {
	kp, err := issueClient(c.ca, user, groups...)
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host:            c.host,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.ca.Pair.CertPEM, CertData: kp.CertPEM, KeyData: kp.KeyPEM},
		QPS:             200,
		Burst:           400,
	}, nil
}

// WriteKubeconfig writes cfg as a kubeconfig file in the cluster dir.
func (c *Cluster) WriteKubeconfig(cfg *rest.Config, name string) (string, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["tenantry"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["tenantry"] = &clientcmdapi.Context{Cluster: "tenantry", AuthInfo: "user"}
	kc.CurrentContext = "tenantry"
	path := c.path(name)
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return "", fmt.Errorf("writing kubeconfig: %w", err)
	}
	return path, nil
}

// Stop stops every process in reverse start order. It is safe to call twice.
func (c *Cluster) Stop() {
	if c.stopStorage != nil {
		c.stopStorage()
	}
	if c.node != nil {
		c.nodeCleanupErr = c.node.stop(c.Config)
		c.node = nil
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].Stop(10 * time.Second)
	}
}

// Cleanup stops the cluster and removes its directory.
func (c *Cluster) Cleanup() {
	c.Stop()
	_ = os.RemoveAll(c.Dir)
}

// Logs returns the last lines of every component's log, for failure reports.
func (c *Cluster) Logs(lines int) string {
	var b strings.Builder
	procs := c.procs
	if c.node != nil {
		procs = append(append([]*process{}, procs...), c.node.procs...)
	}
	for _, p := range procs {
		fmt.Fprintf(&b, "==== %s (last %d lines of %s) ====\n%s\n", p.Name(), lines, p.logPath, p.tail(lines))
	}
	return b.String()
}

// PIDs returns the process IDs of the running components, by name.
func (c *Cluster) PIDs() map[string]int {
	out := map[string]int{}
	for _, p := range c.procs {
		if done, _ := p.Exited(); !done {
			out[p.Name()] = p.Pid()
		}
	}
	return out
}

// CreateNamespace creates a namespace as admin; one that exists already is left as it is.
func (c *Cluster) CreateNamespace(ctx context.Context, name string) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err == nil {
		_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	}
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}
