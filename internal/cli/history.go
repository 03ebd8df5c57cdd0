package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenantry/tenantry/internal/history"
	"github.com/tenantry/tenantry/reconciler/status"
)

func newHistoryCommand() *cobra.Command {
	var (
		o                                  history.Options
		kubeconfig, agentNamespace, output string
	)
	cmd := &cobra.Command{
		Use:   "history [TENANT]",
		Short: "Show the Git history of tenant files, what each commit changed in the spec and whether the cluster applied it",
		Long: `history walks the first-parent Git log of the tenants repo (--repo, default ".") for commits
that changed tenants/<TENANT>.yaml or defaults.yaml (every tenant file without TENANT). For each
change it shows the commit, author, date and message and the changed spec fields. With
--kubeconfig it also shows whether the host cluster applied the change, from the Tenant's
status (lastAppliedRevision, contentRevision), the agent's record of its last pass, and its Events.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Tenant = args[0]
			}
			return runHistory(cmd.Context(), cmd.OutOrStdout(), o, kubeconfig, agentNamespace, output)
		},
	}
	cmd.Flags().StringVar(&o.Dir, "repo", ".", "the tenants repo: a directory in a Git work tree")
	cmd.Flags().IntVar(&o.Limit, "limit", 0, "show at most this many commits (0: all)")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the host cluster, to show whether each change was applied")
	cmd.Flags().StringVar(&agentNamespace, "agent-namespace", status.DefaultAgentNamespace, "the agent's namespace, where it records the revision of each pass")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func runHistory(ctx context.Context, out io.Writer, o history.Options, kubeconfig, agentNamespace, output string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if output != "text" && output != "json" {
		return fmt.Errorf("unknown output %q (text or json)", output)
	}
	commits, err := history.Log(o)
	if err != nil {
		return err
	}
	if kubeconfig != "" {
		c, err := hostClient(kubeconfig)
		if err != nil {
			return err
		}
		states, err := history.ClusterStates(ctx, c, agentNamespace)
		if err != nil {
			return err
		}
		if err := history.Annotate(o, commits, states); err != nil {
			return err
		}
	}
	return history.Write(out, commits, output)
}
