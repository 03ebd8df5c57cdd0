package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/notify"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/source"
)

// agentFlags are the agent's settings; each can also come from TENANTRY_<FLAG>.
type agentFlags struct {
	repoURL, branch, tag, commit, path, workDir string
	credentialsDir, hookSecretFile              string
	kubeconfig, healthAddr, metricsAddr         string
	webhookURL, notifyConfig, instance          string
	interval, driftInterval, healthTimeout      time.Duration
	workers, maxDeletions                       int
	maxDeletionShare                            float64
	detectOnly, allowMassDeletion, installCRDs  bool
	leader                                      leaderFlags
	vcluster                                    vclusterFlags
}

func newAgentCommand() *cobra.Command {
	f := &agentFlags{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Pull the tenants repo and reconcile every tenant into the host cluster",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := newLogger(cmd.ErrOrStderr(), false)
			return runAgent(logr.NewContext(ctx, log), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repoURL, "repo-url", "", "URL of the tenants repo (https://, ssh://, git@host:path, file://)")
	fl.StringVar(&f.branch, "branch", "", "branch to track (default main)")
	fl.StringVar(&f.tag, "tag", "", "tag to track instead of a branch")
	fl.StringVar(&f.commit, "commit", "", "commit to pin instead of a branch")
	fl.StringVar(&f.path, "path", ".", "directory of the tenants repo inside the Git repo")
	fl.StringVar(&f.workDir, "work-dir", "", "directory for checkouts (default a temp dir)")
	fl.StringVar(&f.credentialsDir, "git-credentials-dir", "", "directory of Git credential files (username, password, bearerToken, identity, known_hosts); env TENANTRY_GIT_* also work")
	fl.StringVar(&f.hookSecretFile, "hook-secret-file", "", "file with the secret for GitHub/GitLab push webhooks on /hook/github and /hook/gitlab")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig of the host cluster (default in-cluster, then $KUBECONFIG)")
	fl.StringVar(&f.healthAddr, "health-addr", ":8081", "address for /healthz, /readyz and /hook/")
	fl.StringVar(&f.metricsAddr, "metrics-addr", ":8080", "address for /metrics (empty disables)")
	fl.StringVar(&f.webhookURL, "notify-webhook-url", "", "generic JSON webhook for drift, failure and recovery events")
	fl.StringVar(&f.notifyConfig, "notify-config", "", "notification config file (providers: Slack, Teams, Discord, Google Chat, webhooks; routes by event kind and tenant)")
	fl.DurationVar(&f.interval, "interval", time.Minute, "Git poll interval")
	fl.DurationVar(&f.driftInterval, "drift-interval", 5*time.Minute, "drift check interval")
	fl.DurationVar(&f.healthTimeout, "health-timeout", 2*time.Minute, "how long to wait for applied objects to become healthy")
	fl.StringVar(&f.instance, "instance", "tenantry", "names this agent on the Tenants it manages and its record of the last applied revision (<instance>-revision in its namespace); agents sharing a cluster need different ones")
	fl.IntVar(&f.workers, "workers", reconciler.DefaultWorkers, "tenants reconciled at once")
	fl.IntVar(&f.maxDeletions, "max-tenant-deletions", 1, "tenants one revision may remove before pruning is held back")
	fl.Float64Var(&f.maxDeletionShare, "max-deletion-share", 0, "share of all tenants (0..1) one revision may remove; raises --max-tenant-deletions")
	fl.BoolVar(&f.detectOnly, "detect-only", false, "report drift without correcting it")
	fl.BoolVar(&f.allowMassDeletion, "allow-mass-deletion", false, "allow one revision to remove more than --max-tenant-deletions tenants")
	fl.BoolVar(&f.installCRDs, "install-crds", true, "apply the Tenant CRD at start")
	addLeaderFlags(fl, &f.leader)
	addVClusterFlags(fl, &f.vcluster, true, "roll out each tenant's virtual cluster (StatefulSet, Service, RBAC) and report it in status.controlPlane")
	return cmd
}

func runAgent(ctx context.Context, f *agentFlags) error {
	cfg, err := hostConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	src, err := newSource(f)
	if err != nil {
		return err
	}
	lib, err := policy.Library()
	if err != nil {
		return err
	}
	reg, metrics, err := newAgentMetrics()
	if err != nil {
		return err
	}
	notifier, closeNotifier, err := newNotifier(f, metrics.ObserveAlert)
	if err != nil {
		return err
	}
	defer closeNotifier()
	agent, err := reconciler.New(cfg, reconciler.Options{Workers: f.workers, HealthTimeout: f.healthTimeout,
		DetectOnly: f.detectOnly, MaxTenantDeletions: f.maxDeletions, MaxTenantDeletionShare: f.maxDeletionShare, AllowMassDeletion: f.allowMassDeletion,
		Notifier: notifier, Templates: lib, RepoURL: f.repoURL, Metrics: metrics,
		VirtualClusters: f.vcluster.enabled, VCluster: f.vcluster.options(), ProtectedNamespaces: ownNamespaces(f.leader),
		RecordNamespace: f.leader.namespace, Instance: f.instance})
	if err != nil {
		return err
	}
	defer agent.Close()
	trigger := make(chan struct{}, 1)
	var ready atomic.Bool
	if err := serve(ctx, f, trigger, &ready, reg); err != nil {
		return err
	}
	// A standby replica is ready: it serves health and waits for the lease.
	return runLeading(ctx, cfg, f.leader, func() { ready.Store(true) }, func(ctx context.Context) error {
		if f.installCRDs {
			if err := agent.InstallCRDs(ctx); err != nil {
				return err
			}
		}
		return agent.Run(ctx, subdir{src, f.path}, reconciler.RunOptions{PollInterval: f.interval, DriftInterval: f.driftInterval,
			Trigger: trigger, OnPass: func(*reconciler.Result, error) { ready.Store(true) }})
	})
}

func hostConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		if cfg, err := rest.InClusterConfig(); err == nil {
			return cfg, nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the host kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = reconciler.DefaultQPS, reconciler.DefaultBurst
	return cfg, nil
}

// hostClient is a controller-runtime client for the host cluster behind kubeconfig.
func hostClient(kubeconfig string) (client.Client, error) {
	cfg, err := hostConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return nil, fmt.Errorf("building the host client: %w", err)
	}
	return c, nil
}

func newSource(f *agentFlags) (*source.Source, error) {
	if f.repoURL == "" {
		return nil, errors.New("--repo-url (or TENANTRY_REPO_URL) is required")
	}
	auth, err := source.AuthFromEnv()
	if err != nil {
		return nil, err
	}
	if f.credentialsDir != "" {
		if auth, err = source.AuthFromDir(f.credentialsDir); err != nil {
			return nil, err
		}
	}
	return source.New(source.Options{URL: f.repoURL, Auth: auth, Dir: f.workDir,
		Ref: source.Ref{Branch: f.branch, Tag: f.tag, Commit: f.commit}})
}

// newNotifier builds the notification router from --notify-config and/or the generic
// --notify-webhook-url; the returned func flushes pending alerts. observe sees every
// delivery (the generic webhook's as provider "webhook").
func newNotifier(f *agentFlags, observe notify.DeliveryObserver) (notify.Notifier, func(), error) {
	var all notify.Multi
	closeFn := func() {}
	if f.notifyConfig != "" {
		cfg, err := notify.LoadConfig(f.notifyConfig)
		if err != nil {
			return nil, nil, err
		}
		router, err := cfg.BuildRouter(notify.WithDeliveryObserver(observe))
		if err != nil {
			return nil, nil, err
		}
		all, closeFn = append(all, router), func() { _ = router.Close() }
	}
	if f.webhookURL != "" {
		all = append(all, notify.Observed("webhook", notify.NewWebhook(f.webhookURL), observe))
	}
	return all, closeFn, nil
}

// subdir points the agent at a directory inside the checkout.
type subdir struct {
	src  reconciler.Fetcher
	path string
}

func (s subdir) Fetch(ctx context.Context) (*source.Artifact, bool, error) {
	art, changed, err := s.src.Fetch(ctx)
	if art != nil {
		cp := *art
		cp.Path = filepath.Join(art.Path, s.path)
		art = &cp
	}
	return art, changed, err
}

// serve starts the health, webhook and metrics endpoints.
func serve(ctx context.Context, f *agentFlags, trigger chan<- struct{}, ready *atomic.Bool, reg *prometheus.Registry) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "first pass not done", http.StatusServiceUnavailable)
		}
	})
	if f.hookSecretFile != "" {
		secret, err := os.ReadFile(f.hookSecretFile)
		if err != nil {
			return fmt.Errorf("reading the hook secret: %w", err)
		}
		mux.Handle("/hook/", source.NewReceiver(trimNewline(secret), trigger))
	}
	listen(ctx, f.healthAddr, mux)
	if f.metricsAddr != "" {
		m := http.NewServeMux()
		m.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		listen(ctx, f.metricsAddr, m)
	}
	return nil
}

func listen(ctx context.Context, addr string, h http.Handler) {
	srv := source.NewServer(addr, h)
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logr.FromContextOrDiscard(ctx).Error(err, "server failed", "addr", addr)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
