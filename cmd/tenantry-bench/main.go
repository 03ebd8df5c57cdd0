// Command tenantry-bench runs tenantry's benchmarks against real components (`make bench`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tenantry/tenantry/internal/bench"
)

func main() {
	tenants := flag.String("tenants", "100,1000", "tenant counts to benchmark")
	runs := flag.Int("runs", 3, "runs per figure (medians are reported)")
	largeRuns := flag.Int("large-runs", 0, "runs for 1,000 tenants or more (default: -runs)")
	out := flag.String("out", "bench/results", "directory for latest.json and dated results")
	work := flag.String("work", "", "work directory (default a temp dir)")
	peerLimit := flag.Duration("peer-limit", 10*time.Minute, "cap on each wait of a peer run; a capped run reports how far it got")
	node := flag.Bool("node", false, "also measure on a real node (root; the node's packages and bin/images); with -tenants=none, only that")
	nodeLoad := flag.Bool("node-load", false, "with -node, also run the pod loads (1,000 pods; 10 × 100 Deployments) through a tenant's virtual cluster and each peer's")
	vcluster := flag.Bool("vcluster", true, "with -node, also run loft-sh vcluster (make peers) on the node, side by side")
	merge := flag.Bool("merge", false, "update the figures of the same names in the existing latest.json instead of replacing it")
	syncer := flag.Bool("syncer", false, "also measure the syncer with -syncer-pods pods; with -tenants=none, only that (and -node)")
	syncerPods := flag.Int("syncer-pods", 1000, "pods per syncer run")
	syncerHostQPS := flag.Float64("syncer-host-qps", 0, "the syncer's host client QPS (burst twice that); 0 is tenantry-vcluster's own limit")
	syncerRun := flag.String("syncer-run", "", "internal: run the syncer from this bench config file until SIGTERM")
	agentRun := flag.Int("agent-run", 0, "internal: run one agent measurement with this many tenants and print JSON")
	flag.Parse()
	ctx := context.Background()
	if *syncerRun != "" {
		runSyncer(ctx, *syncerRun)
		return
	}
	if *agentRun > 0 {
		if err := bench.RunAgentChild(ctx, *agentRun, *work, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	o := bench.Options{Runs: *runs, LargeRuns: *largeRuns, Work: *work, Log: os.Stderr, PeerLimit: *peerLimit, Node: *node, NodeLoad: *nodeLoad, VCluster: *vcluster,
		Syncer: *syncer, SyncerPods: *syncerPods, SyncerHostQPS: float32(*syncerHostQPS)}
	if err := run(ctx, o, *tenants, *out, *merge); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// runSyncer is the syncer's own process in a syncer run; SIGTERM ends it.
func runSyncer(ctx context.Context, cfgPath string) {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := bench.RunSyncerChild(ctx, cfgPath, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o bench.Options, tenants, out string, merge bool) error {
	var counts []int
	for _, s := range strings.Split(tenants, ",") {
		if s == "none" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-tenants: %w", err)
		}
		counts = append(counts, n)
	}
	o.Tenants = counts
	if o.Work == "" {
		dir, err := os.MkdirTemp("", "tenantry-bench-")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		o.Work = dir
	}
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if merge {
		if err := rep.MergeInto(out); err != nil {
			return err
		}
	}
	rep.DropRetired()
	rep.WriteTable(os.Stdout)
	return rep.Save(out)
}
