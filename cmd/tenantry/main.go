// Command tenantry is the agent, the local dev environment and the CLI of tenantry.
package main

import (
	"os"

	"github.com/tenantry/tenantry/internal/cli"
)

func main() {
	if err := cli.NewRoot(os.Stdout, os.Stderr).Execute(); err != nil {
		os.Exit(cli.ExitCode(err))
	}
}
