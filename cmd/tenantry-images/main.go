// Command tenantry-images builds tenantry's container images as tarballs, without Docker.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/image"
)

func main() {
	var o image.Options
	flag.StringVar(&o.OutDir, "out", "bin/images", "directory for the image tarballs")
	flag.StringVar(&o.Version, "version", "dev", "tag of the agent's image")
	flag.StringVar(&o.Components, "components", "bin/components", "directory of the pinned components (make components)")
	flag.StringVar(&o.AgentBinary, "agent-binary", "", "prebuilt agent binary (default: build ./cmd/tenantry)")
	flag.StringVar(&o.VClusterBinary, "vcluster-binary", "", "prebuilt virtual cluster binary (default: build ./cmd/tenantry-vcluster)")
	versions := flag.String("kubernetes-versions", "", "comma-separated virtual cluster versions to build (default: every supported version)")
	flag.BoolVar(&o.NoAgent, "no-agent", false, "skip the agent's image (make dev runs the agent as a local process)")
	flag.Parse()
	if *versions != "" {
		o.KubernetesVersions = strings.Split(*versions, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	built, err := image.BuildAll(ctx, o)
	for _, b := range built {
		fmt.Printf("%-28s %s  %4d MiB  %s  (%s)\n", b.Ref, b.Digest, b.Size>>20, b.Path, b.Took.Round(time.Millisecond))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tenantry-images:", err)
		os.Exit(1)
	}
}
