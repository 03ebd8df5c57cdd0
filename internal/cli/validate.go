package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tenantry/tenantry/reconciler/loader"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check a tenants repo offline: strict schema with file:line errors, uniqueness, versions",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			repo, err := loader.Load(dir)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			out := cmd.OutOrStdout()
			for _, f := range repo.Failed {
				fmt.Fprintln(out, f.Errors.Error())
			}
			fmt.Fprintf(out, "%d tenant(s) valid, %d invalid\n", len(repo.Tenants), len(repo.Failed))
			if len(repo.Failed) > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d tenant file(s) invalid", len(repo.Failed))}
			}
			return nil
		},
	}
}
