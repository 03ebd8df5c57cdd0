package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tenantry/tenantry/internal/freeport"
	"github.com/tenantry/tenantry/internal/supervise"
	"github.com/tenantry/tenantry/syncer"
	"github.com/tenantry/tenantry/syncer/kubeletapi"
)

// Timeouts of the start sequence and of shutdown.
const (
	kineTimeout       = 30 * time.Second
	apiServerTimeout  = 2 * time.Minute
	syncerStopTimeout = time.Second
	// DefaultStopGrace bounds stopping the children; the whole shutdown stays under 10 s.
	DefaultStopGrace = 8 * time.Second
)

// Options are what Run needs beside the Config.
type Options struct {
	// Host is the host cluster's client config (in-cluster in a pod).
	Host *rest.Config
	// Started is when the process started, for the startup timing log; default now.
	Started time.Time
	// Output receives the children's output, line-prefixed; default os.Stderr.
	Output io.Writer
	// StopGrace bounds stopping the children; default DefaultStopGrace.
	StopGrace time.Duration
}

// Run runs the virtual control plane until ctx ends, then stops it and returns nil. It
// returns an error when the start fails or the syncer fails.
func Run(ctx context.Context, cfg Config, opts Options) error {
	opts.defaults()
	err := run(ctx, cfg, opts)
	if err != nil && ctx.Err() != nil {
		logr.FromContextOrDiscard(ctx).Info("stopped while starting", "error", err.Error())
		return nil
	}
	return err
}

func run(ctx context.Context, cfg Config, opts Options) error {
	log := logr.FromContextOrDiscard(ctx)
	host, err := kubernetes.NewForConfig(opts.Host)
	if err != nil {
		return fmt.Errorf("host client: %w", err)
	}
	sup := supervise.NewSupervisor(log, opts.Output)
	defer func() {
		began := time.Now()
		sup.Stop(opts.StopGrace)
		log.Info("control plane stopped", "took", time.Since(began).Round(time.Millisecond).String())
	}()
	pr := &probes{supervisor: sup}
	stopProbes, err := pr.listen(ctx, ":"+itoa(cfg.ProbePort))
	if err != nil {
		return err
	}
	defer stopProbes()
	serviceIP, err := hostServiceIP(ctx, host, cfg)
	if err != nil {
		return err
	}
	pki, err := EnsurePKI(filepath.Join(cfg.DataDir, "pki"), cfg.ServingSANs(os.Getenv("POD_IP"), serviceIP))
	if err != nil {
		return err
	}
	virtual, kcmPort, err := startControlPlane(ctx, cfg, pki, sup, opts.Started)
	if err != nil {
		return err
	}
	log.Info("virtual API ready", "sinceProcessStart", time.Since(opts.Started).Round(time.Millisecond).String())
	return serve(ctx, cfg, opts, pki, pr, host, virtual, serviceIP, kcmPort)
}

// serve publishes access, starts DNS and the syncer, reports ready once the controllers
// run, and waits for the end.
func serve(ctx context.Context, cfg Config, opts Options, pki *PKI, pr *probes, host, virtual kubernetes.Interface, serviceIP string, kcmPort int) error {
	log := logr.FromContextOrDiscard(ctx)
	if err := retry(ctx, "owners ClusterRoleBinding", func() error { return cfg.applyOwnersBinding(ctx, virtual) }); err != nil {
		return err
	}
	if err := retry(ctx, "kubeconfig Secret", func() error { return cfg.writeKubeconfigSecret(ctx, host, pki) }); err != nil {
		return err
	}
	records, err := startRecords(ctx, virtual)
	if err != nil {
		return err
	}
	resolver := &Resolver{Records: records, ServiceHost: net.ParseIP(serviceIP), Upstream: cfg.DNSUpstream}
	dnsServer, err := ListenDNS(ctx, ":"+itoa(cfg.DNSPort), resolver)
	if err != nil {
		return err
	}
	defer func() { _ = dnsServer.Shutdown(context.Background()) }()
	log.Info("serving DNS", "port", cfg.DNSPort, "upstream", cfg.DNSUpstream)
	if err := listenKubelet(ctx, cfg, pki, opts.Host); err != nil {
		return err
	}
	listenMetrics(ctx, cfg, pki, opts.Host, host, virtual, os.Getenv("POD_IP"))
	syncErr := make(chan error, 1)
	go func() { syncErr <- runSyncer(ctx, cfg, opts, pki, serviceIP) }()
	if err := readyOnceControllersRun(ctx, pr, virtual, kcmPort, syncErr); err != nil {
		return err
	}
	log.Info("ready", "sinceProcessStart", time.Since(opts.Started).Round(time.Millisecond).String())
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-syncErr:
		return err
	}
	// Let the syncer stop before the API server it talks to.
	select {
	case err := <-syncErr:
		if err != nil {
			log.Error(err, "syncer stopped with an error")
		}
	case <-time.After(syncerStopTimeout):
		log.Info("the syncer did not stop in time", "timeout", syncerStopTimeout)
	}
	return nil
}

// startControlPlane starts kine, kube-apiserver and kube-controller-manager and returns
// an admin client once the virtual API server is ready, and the controller manager's
// health port.
func startControlPlane(ctx context.Context, cfg Config, pki *PKI, sup *supervise.Supervisor, started time.Time) (kubernetes.Interface, int, error) {
	kinePort := cfg.KinePort
	if err := sup.Start(cfg.kineSpec(kinePort)); err != nil {
		return nil, 0, err
	}
	kctx, cancel := context.WithTimeout(ctx, kineTimeout)
	defer cancel()
	if err := waitTCP(kctx, "127.0.0.1:"+itoa(kinePort)); err != nil {
		return nil, 0, fmt.Errorf("kine: %w", err)
	}
	logr.FromContextOrDiscard(ctx).Info("kine ready", "port", kinePort, "sinceProcessStart", time.Since(started).Round(time.Millisecond).String())
	advertise := os.Getenv("POD_IP")
	if advertise == "" {
		advertise = "127.0.0.1"
	}
	if err := sup.Start(cfg.apiServerSpec(pki, kinePort, advertise)); err != nil {
		return nil, 0, err
	}
	virtual, err := kubernetes.NewForConfig(cfg.localConfig(pki))
	if err != nil {
		return nil, 0, fmt.Errorf("virtual client: %w", err)
	}
	actx, cancel := context.WithTimeout(ctx, apiServerTimeout)
	defer cancel()
	if err := waitAPIReady(actx, virtual); err != nil {
		return nil, 0, err
	}
	port, err := startControllerManager(cfg, pki, sup)
	return virtual, port, err
}

// startControllerManager starts kube-controller-manager and returns its health port.
func startControllerManager(cfg Config, pki *PKI, sup *supervise.Supervisor) (int, error) {
	kubeconfig, err := cfg.writeControllerManagerKubeconfig(pki)
	if err != nil {
		return 0, err
	}
	port, err := freeport.Pick()
	if err != nil {
		return 0, err
	}
	return port, sup.Start(cfg.controllerManagerSpec(pki, kubeconfig, port))
}

// readyOnceControllersRun marks the pod ready once kube-controller-manager has started its
// controllers: before, the API answers but a Deployment makes no pods. Readiness after
// that is the API server's alone (a restarting controller manager does not take the API
// away). A syncer that stops meanwhile ends the wait with its error.
func readyOnceControllersRun(ctx context.Context, pr *probes, virtual kubernetes.Interface, kcmPort int, syncErr <-chan error) error {
	wctx, cancel := context.WithTimeout(ctx, apiServerTimeout)
	defer cancel()
	started := make(chan error, 1)
	go func() { started <- waitControllersStarted(wctx, kcmPort) }()
	select {
	case err := <-started:
		if err != nil {
			return err
		}
	case err := <-syncErr:
		if err == nil {
			err = fmt.Errorf("syncer stopped before the control plane was ready: %w", ctx.Err())
		}
		return err
	}
	pr.setReady(virtual)
	return nil
}

// runSyncer runs the syncer in-process until ctx ends. An error, or a return before ctx
// ends, is fatal: the pod restarts.
func runSyncer(ctx context.Context, cfg Config, opts Options, pki *PKI, serviceIP string) error {
	err := syncer.Run(ctx, syncer.Config{
		Virtual: cfg.localConfig(pki), Host: opts.Host, Name: cfg.Name, HostNamespace: cfg.HostNamespace,
		Pods: cfg.Pods, Sync: cfg.Sync, ServiceHost: serviceIP, ServicePort: ServicePort,
		DNSServer: serviceIP, VirtualCA: pki.CAPEM, KubeletPort: cfg.KubeletPort, Tokens: cfg.Tokens,
	})
	switch {
	case ctx.Err() != nil:
		return nil
	case err != nil:
		return fmt.Errorf("syncer: %w", err)
	}
	return errors.New("syncer stopped unexpectedly")
}

// listenKubelet serves the syncer's kubelet API (pod logs, exec, attach and port-forward
// through the host API) on loopback, to the virtual API server only, until ctx ends.
func listenKubelet(ctx context.Context, cfg Config, pki *PKI, host *rest.Config) error {
	addr := net.JoinHostPort(kubeletapi.Address, itoa(cfg.KubeletPort))
	h, err := kubeletapi.New(host, cfg.HostNamespace, cfg.Name, logr.FromContextOrDiscard(ctx).WithName("kubelet-api"))
	if err != nil {
		return err
	}
	t := kubeletapi.TLS{CertPEM: pki.KubeletServing.CertPEM, KeyPEM: pki.KubeletServing.KeyPEM,
		ClientCAPEM: pki.CAPEM, ClientName: KubeletClientUser}
	if err := kubeletapi.Listen(ctx, addr, t, h); err != nil {
		return err
	}
	logr.FromContextOrDiscard(ctx).Info("serving the kubelet API", "address", addr)
	return nil
}

// hostServiceIP waits for the host Service in front of this pod to have a ClusterIP.
func hostServiceIP(ctx context.Context, host kubernetes.Interface, cfg Config) (string, error) {
	var ip string
	err := retry(ctx, "host Service "+cfg.ServiceName, func() error {
		svc, err := host.CoreV1().Services(cfg.HostNamespace).Get(ctx, cfg.ServiceName, metav1.GetOptions{})
		switch {
		case err != nil:
			return fmt.Errorf("getting host Service %s/%s: %w", cfg.HostNamespace, cfg.ServiceName, err)
		case svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone:
			return fmt.Errorf("host Service %s/%s has no ClusterIP", cfg.HostNamespace, cfg.ServiceName)
		}
		ip = svc.Spec.ClusterIP
		return nil
	})
	return ip, err
}

// retry calls fn every 500ms until it succeeds or ctx ends, logging every tenth failure.
func retry(ctx context.Context, what string, fn func() error) error {
	log := logr.FromContextOrDiscard(ctx)
	for i := 0; ; i++ {
		err := fn()
		if err == nil {
			return nil
		}
		if i%10 == 0 {
			log.Info("retrying", "what", what, "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (o *Options) defaults() {
	if o.Started.IsZero() {
		o.Started = time.Now()
	}
	if o.Output == nil {
		o.Output = os.Stderr
	}
	if o.StopGrace == 0 {
		o.StopGrace = DefaultStopGrace
	}
}
