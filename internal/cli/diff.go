package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenantry/tenantry/internal/history"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler"
)

// diffOptions are the settings of `tenantry diff`.
type diffOptions struct {
	dir, kubeconfig, output, instance, revision string
	maxDeletions                                int
	maxDeletionShare                            float64
	allowMassDeletion, detectOnly               bool
	vcluster                                    vclusterFlags
}

func newDiffCommand() *cobra.Command {
	o := diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff [DIR]",
		Short: "Show what a tenants repo checkout would change on the host cluster (exit 0 no change, 1 changes, 2 errors)",
		Long: `diff works out what the agent would do with the tenants repo at DIR (default ".") without
writing anything: every tenant is rendered as the agent renders it and compared with the live
cluster by server-side dry-run applies. It lists objects to create, configure (with the changed
fields, old and new values) and prune, new tenants, removed tenants with their deletion policy,
and invalid files. The kubeconfig's user needs get/list on the tenants' kinds and patch (a
dry-run apply is authorized as a patch; one that would create an object also needs create).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.dir = "."
			if len(args) == 1 {
				o.dir = args[0]
			}
			return runDiff(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the host cluster (default in-cluster, then $KUBECONFIG)")
	fl.StringVarP(&o.output, "output", "o", "text", "text, markdown (for a pull request comment) or json")
	fl.StringVar(&o.instance, "instance", "tenantry", "the agent instance whose Tenants the checkout is compared with (label tenantry.dev/agent)")
	fl.StringVar(&o.revision, "revision", "", "revision stamped on changed objects (default: DIR's Git HEAD)")
	fl.IntVar(&o.maxDeletions, "max-tenant-deletions", 1, "as the agent's flag: tenants one revision may remove before removal is held back")
	fl.Float64Var(&o.maxDeletionShare, "max-deletion-share", 0, "as the agent's flag: share of all tenants (0..1) one revision may remove")
	fl.BoolVar(&o.allowMassDeletion, "allow-mass-deletion", false, "as the agent's flag: lift --max-tenant-deletions")
	fl.BoolVar(&o.detectOnly, "detect-only", false, "as the agent's flag: drift is reported, not corrected")
	addVClusterFlags(fl, &o.vcluster, true, "as the agent's flag: include the tenants' virtual clusters (charts/vcluster)")
	return cmd
}

func runDiff(ctx context.Context, out io.Writer, o diffOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	write, ok := planWriters[o.output]
	if !ok {
		return &exitError{code: 2, err: fmt.Errorf("unknown output %q (text, markdown or json)", o.output)}
	}
	rev := o.revision
	if rev == "" {
		var err error
		if rev, err = history.HeadRevision(o.dir); err != nil {
			rev = "working-tree"
		}
	}
	cfg, err := hostConfig(o.kubeconfig)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	lib, err := policy.Library()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	agent, err := reconciler.New(cfg, reconciler.Options{Templates: lib, Instance: o.instance,
		MaxTenantDeletions: o.maxDeletions, MaxTenantDeletionShare: o.maxDeletionShare, AllowMassDeletion: o.allowMassDeletion,
		DetectOnly: o.detectOnly, VirtualClusters: o.vcluster.enabled, VCluster: o.vcluster.options()})
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer agent.Close()
	plan, err := agent.Plan(ctx, o.dir, rev)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := write(out, plan); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("writing the plan: %w", err)}
	}
	switch {
	case plan.Failed():
		return &exitError{code: 2, err: errors.New("the tenants repo has errors")}
	case plan.Changed():
		return &exitError{code: 1, err: errors.New("the checkout changes the host cluster")}
	}
	return nil
}
