package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenantry/tenantry/internal/validate"
)

func newValidateCommand() *cobra.Command {
	var (
		output, tenant string
		manifests      []string
	)
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check a tenants repo offline with Gatekeeper's engine (exit 0 clean, 1 violations, 2 errors)",
		Long: `validate checks a tenants repo with no cluster: strict schema with file:line errors,
uniqueness, that referenced policies exist and their parameters match the template's schema,
and the admin meta-policies in policies/meta/ evaluated against the Tenant objects.
With --tenant and -f it checks workload manifests against that tenant's constraints.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return runValidate(cmd.Context(), cmd.OutOrStdout(), dir, tenant, manifests, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text, json or github (GitHub Actions annotations)")
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant whose constraints the manifests given with -f are checked against")
	cmd.Flags().StringSliceVarP(&manifests, "filename", "f", nil, "workload manifest files or directories (with --tenant)")
	return cmd
}

func runValidate(ctx context.Context, out io.Writer, dir, tenant string, manifests []string, output string) error {
	if (tenant == "") != (len(manifests) == 0) {
		return &exitError{code: 2, err: fmt.Errorf("--tenant and -f go together")}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	report, err := validate.Repo(ctx, dir)
	if err == nil && tenant != "" {
		err = validate.Manifests(ctx, report, tenant, manifests)
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := report.Write(out, output); err != nil {
		return &exitError{code: 2, err: err}
	}
	switch {
	case report.HasErrors():
		return &exitError{code: 2, err: fmt.Errorf("the tenants repo has errors")}
	case report.HasViolations():
		return &exitError{code: 1, err: fmt.Errorf("policy violations found")}
	}
	return nil
}
