// Package cli holds tenantry's cobra commands: agent, dev, validate, diff, history, status and kubeconfig.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode maps an error from a command to the process exit code.
func ExitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// NewRoot builds the tenantry command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "tenantry",
		Short:         "Virtual clusters for every team, driven from a Git repo of tenant files",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newAgentCommand(), newDevCommand(), newValidateCommand(), newDiffCommand(), newHistoryCommand(), newStatusCommand(), newKubeconfigCommand(), newBackupCommand(), newRestoreCommand())
	return root
}

// bindEnv lets every flag of cmd be set from TENANTRY_<FLAG_NAME> unless given on the command line.
func bindEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		env := "TENANTRY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !f.Changed && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
		}
	})
	return err
}

func newLogger(w io.Writer, dev bool) logr.Logger {
	return zap.New(zap.WriteTo(w), zap.UseDevMode(dev))
}
