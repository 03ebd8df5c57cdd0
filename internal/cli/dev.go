package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/source"
	"github.com/tenantry/tenantry/reconciler/status"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// devAgentNamespace is the dev agent's namespace, as the chart's: it records each pass there.
const devAgentNamespace = status.DefaultAgentNamespace

// DevOptions configures `tenantry dev`.
type DevOptions struct {
	Tenants       string
	Gatekeeper    bool
	Once          bool
	Timeout       time.Duration
	Interval      time.Duration
	DriftInterval time.Duration
	// Node adds a real node (containerd, kubelet, kube-proxy; root only), so the tenants'
	// virtual clusters and their workloads run as real containers.
	Node bool
	// WatchImages is a directory of image tarballs the node imports as they appear or
	// change (make dev builds the older Kubernetes version's image while the agent runs).
	WatchImages string
	// VirtualClusters rolls out the tenants' virtual clusters; off by default, since the
	// local control plane has no node to run them on.
	VirtualClusters bool
	VCluster        render.VClusterOptions
}

func newDevCommand() *cobra.Command {
	o := DevOptions{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Start a local host control plane, serve a tenants dir as a Git repo, and run the agent on it",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx = logr.NewContext(ctx, newLogger(cmd.ErrOrStderr(), true).V(1))
			return RunDev(ctx, cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().StringVar(&o.Tenants, "tenants", "tenants-example", "tenants repo directory to serve")
	cmd.Flags().BoolVar(&o.Gatekeeper, "gatekeeper", true, "also run OPA Gatekeeper as the validating webhook (tenants with policies need it)")
	cmd.Flags().BoolVar(&o.Once, "once", false, "exit 0 once every tenant is Ready (non-zero on timeout)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 3*time.Minute, "with --once, how long to wait")
	cmd.Flags().DurationVar(&o.Interval, "interval", 5*time.Second, "Git poll interval")
	cmd.Flags().DurationVar(&o.DriftInterval, "drift-interval", 30*time.Second, "drift check interval")
	cmd.Flags().BoolVar(&o.Node, "node", false, "add a real node (root; containerd, kubelet and kube-proxy from `make node`, images from `make images`) and roll out the virtual clusters on it")
	cmd.Flags().StringVar(&o.WatchImages, "watch-images", "", "with --node, import image tarballs that appear or change in this directory while running (make dev passes bin/images)")
	vc := &vclusterFlags{}
	addVClusterFlags(cmd.Flags(), vc, false, "roll out the tenants' virtual clusters; off by default without --node because the local control plane has no kubelet to run their pods, so they never become ready")
	cmd.PreRun = func(cmd *cobra.Command, _ []string) {
		o.VirtualClusters, o.VCluster = vc.enabled, vc.options()
		if o.Node {
			o.VirtualClusters = vc.enabled || !cmd.Flags().Changed("virtual-clusters")
		}
	}
	return cmd
}

// RunDev runs the local development environment until ctx ends (or, with Once, until
// every tenant is Ready).
func RunDev(ctx context.Context, out io.Writer, o DevOptions) error {
	env, err := StartDev(ctx, out, o)
	if err != nil {
		return err
	}
	defer env.Close()
	return env.Run(ctx)
}

// DevEnv is a running `tenantry dev`: the local host control plane (and node), the tenants
// dir served as a Git repo, and the agent, not yet reconciling.
type DevEnv struct {
	Cluster *localcluster.Cluster
	Agent   *reconciler.Agent
	out     io.Writer
	src     *source.Source
	o       DevOptions
}

// StartDev starts what `tenantry dev` runs, as the command does; Run reconciles, Close stops it.
func StartDev(ctx context.Context, out io.Writer, o DevOptions) (env *DevEnv, err error) {
	if o.Node {
		o.VCluster.PullPolicy = corev1.PullNever // the node has the images `make images` built, imported at start
	}
	c, err := localcluster.Start(ctx, localcluster.Options{Gatekeeper: o.Gatekeeper, Node: o.Node})
	if err != nil {
		return nil, fmt.Errorf("starting the local host control plane: %w", err)
	}
	env = &DevEnv{Cluster: c, out: out, o: o}
	defer func() {
		if err != nil {
			env.Close()
			env = nil
		}
	}()
	fmt.Fprintf(out, "host control plane %s ready in %s\n  export KUBECONFIG=%s\n  kubectl get tenants\n",
		c.Version, c.StartupTime.Round(time.Millisecond), c.Kubeconfig)
	if o.Node {
		fmt.Fprintf(out, "with a real node (%s): once a tenant is Ready, reach its virtual cluster with\n  tenantry kubeconfig TENANT --port-forward --kubeconfig %s\n", localcluster.NodeName, c.Kubeconfig)
	}
	repo, err := serveDir(o.Tenants, filepath.Join(c.Dir, "tenants-repo"))
	if err != nil {
		return env, err
	}
	fmt.Fprintf(out, "serving %s as %s (edit and commit there to see the agent react)\n", o.Tenants, repo.URL())
	lib, err := policy.Library()
	if err != nil {
		return env, err
	}
	if err := c.CreateNamespace(ctx, devAgentNamespace); err != nil { // as installing the chart does
		return env, err
	}
	if env.Agent, err = reconciler.New(c.Config, reconciler.Options{Workers: 4, Templates: lib,
		VirtualClusters: o.VirtualClusters, VCluster: o.VCluster, RecordNamespace: devAgentNamespace}); err != nil {
		return env, err
	}
	if err := env.Agent.InstallCRDs(ctx); err != nil {
		return env, err
	}
	env.src, err = source.New(source.Options{URL: repo.URL(), Dir: filepath.Join(c.Dir, "checkouts")})
	return env, err
}

// Run reconciles the served tenants until ctx ends (or, with Once, until every tenant is Ready).
func (e *DevEnv) Run(ctx context.Context) error {
	if e.o.Node && e.o.WatchImages != "" {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			if err := e.Cluster.WatchImages(ctx, e.o.WatchImages); err != nil {
				fmt.Fprintln(e.out, err)
			}
		}()
	}
	return runDevAgent(ctx, e.out, e.Agent, e.src, e.o)
}

// Close stops the agent and the control plane, and says what the node's clean-up left behind.
func (e *DevEnv) Close() {
	if e.Agent != nil {
		e.Agent.Close()
	}
	e.Cluster.Cleanup()
	if err := e.Cluster.NodeCleanupError(); err != nil {
		fmt.Fprintf(e.out, "the node left something behind: %v\n", err)
	}
}

func runDevAgent(ctx context.Context, out io.Writer, agent *reconciler.Agent, src *source.Source, o DevOptions) error {
	out = &lockedWriter{w: out}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var converged bool
	onPass := func(res *reconciler.Result, err error) {
		if err != nil {
			fmt.Fprintf(out, "pass failed: %v\n", err)
			return
		}
		converged = printTenants(ctx, out, agent, res)
		if o.Once && converged {
			cancel()
		}
	}
	if o.Once {
		var timeout context.CancelFunc
		ctx, timeout = context.WithTimeout(ctx, o.Timeout)
		defer timeout()
	}
	watched := make(chan struct{})
	defer func() { cancel(); <-watched }()
	go func() { defer close(watched); watchReady(ctx, out, agent.Client(), 2*time.Second) }()
	if err := agent.Run(ctx, src, reconciler.RunOptions{PollInterval: o.Interval, DriftInterval: o.DriftInterval, OnPass: onPass}); err != nil {
		return err
	}
	if o.Once && !converged {
		return fmt.Errorf("tenants did not all become Ready within %s", o.Timeout)
	}
	return nil
}

func serveDir(dir, repoDir string) (*localrepo.Repo, error) {
	repo, err := localrepo.Init(repoDir)
	if err != nil {
		return nil, err
	}
	if err := repo.CopyDir(dir); err != nil {
		return nil, err
	}
	if _, err := repo.Commit("tenants from " + dir); err != nil {
		return nil, err
	}
	return repo, nil
}

// printTenants prints the pass and each host Tenant; it reports whether all are Ready.
func printTenants(ctx context.Context, out io.Writer, agent *reconciler.Agent, res *reconciler.Result) bool {
	fmt.Fprintf(out, "\n%s  revision %s\n", time.Now().Format(time.TimeOnly), res.Revision)
	if res.HeldBack != "" {
		fmt.Fprintf(out, "pruning held back: %s\n", res.HeldBack)
	}
	tenants, err := status.ListTenants(ctx, agent.Client())
	if err != nil {
		fmt.Fprintf(out, "listing tenants: %v\n", err)
		return false
	}
	applied := status.AppliedRevisions(ctx, agent.Client(), devAgentNamespace, tenants)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tREADY\tREVISION\tMESSAGE")
	all := len(tenants) > 0
	for _, t := range tenants {
		ready := apimeta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady)
		status, msg := "Unknown", ""
		if ready != nil {
			status, msg = string(ready.Status), ready.Message
		}
		all = all && status == "True"
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, status, applied[t.Name], msg)
	}
	_ = tw.Flush()
	return all
}
