package bench

import (
	"context"
	"fmt"
	"io"

	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// peerVCluster names the vcluster peer in ratios and the chart.
const peerVCluster = "vcluster " + vclusterVersion

// vclusterNodeRuns measures runs fresh vclusters on the node, one after the other, as the
// tenantry tenants are: apply to API answering, RSS, the same echo Deployment, RSS again.
func vclusterNodeRuns(ctx context.Context, c *localcluster.Cluster, work string, runs int, log io.Writer) ([]nodeRun, error) {
	if err := importVClusterImage(ctx, c, work); err != nil {
		return nil, err
	}
	var out []nodeRun
	for i := 1; i <= runs; i++ {
		fmt.Fprintf(log, "bench: real node, %s run %d/%d\n", peerVCluster, i, runs)
		r, err := vclusterNodeRun(ctx, c, fmt.Sprintf("bench-vc-%d", i))
		if err != nil {
			return nil, fmt.Errorf("%s run %d: %w", peerVCluster, i, err)
		}
		fmt.Fprintf(log, "bench: real node, %s run %d/%d: API answering in %.1f s, Deployment in %.1f s (%s), control plane %.0f then %.0f MiB\n",
			peerVCluster, i, runs, r.ready.Seconds(), r.deploy.Seconds(), r.timeline, r.cpReady, r.cpDeploy)
		out = append(out, *r)
	}
	return out, nil
}

// vclusterNodeRun is one vcluster's run; it is stopped whatever happened.
func vclusterNodeRun(ctx context.Context, c *localcluster.Cluster, name string) (r *nodeRun, err error) {
	p, err := newVClusterPeer(c, name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if stopErr := p.Stop(ctx); err == nil && stopErr != nil {
			err = stopErr
		}
	}()
	r = &nodeRun{}
	if r.ready, err = p.Start(ctx); err != nil {
		return nil, err
	}
	if r.cpReady, err = p.RSS(ctx); err != nil {
		return nil, err
	}
	virtual, err := kubernetes.NewForConfig(p.Virtual())
	if err != nil {
		return nil, fmt.Errorf("vcluster client: %w", err)
	}
	if r.deploy, err = deploy(ctx, c, virtual, p.HostNamespace(), p.Name()); err != nil {
		return nil, fmt.Errorf("%w\nvirtual: %s\nhost: %s", err, podDiagnosis(ctx, virtual, "default"), podDiagnosis(ctx, p.cs, p.HostNamespace()))
	}
	r.timeline = deployTimeline(ctx, p.cs, virtual, p.HostNamespace(), p.Name())
	r.timeline += "; host pods: " + podStates(ctx, p.cs, p.HostNamespace())
	if r.cpDeploy, err = p.RSS(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// vclusterFigures are the peer's node figures (medians), with the tenantry metric keys.
func vclusterFigures(runs []nodeRun) []Figure {
	var ready, deploy, cpReady, cpDeploy []float64
	for _, r := range runs {
		ready, deploy = append(ready, r.ready.Seconds()), append(deploy, r.deploy.Seconds())
		cpReady, cpDeploy = append(cpReady, r.cpReady), append(cpDeploy, r.cpDeploy)
	}
	return []Figure{
		vclusterFigure("virtual API ready on a real node (applying its chart to its API answering)", "s", "node-ready", ready,
			"server-side apply of its rendered chart, StatefulSet rollout, `vcluster start` (kine, kube-apiserver, kube-controller-manager, syncer) until a GET through its own kubeconfig Secret vc-<name> answers"),
		vclusterFigure(fmt.Sprintf("virtual Deployment (%d replicas) to containers running", nodeReplicas), "s", "node-deploy", deploy,
			"the same echo Deployment and the same end point as tenantry's"),
		vclusterFigure("control plane RSS on the node (after its API answers)", "MiB", "node-rss", cpReady,
			"total_rss of its pod's container cgroups, as tenantry's; its CoreDNS is a separate pod, which has no image here and does not run (see bench/README.md), not counted"),
		vclusterFigure(fmt.Sprintf("control plane RSS on the node (%d-replica Deployment running)", nodeReplicas), "MiB", "node-rss-deploy", cpDeploy,
			"as above, once the Deployment runs"),
	}
}

// vclusterMissing is the peer's figures without numbers, saying why.
func vclusterMissing(why string) []Figure {
	figs := vclusterFigures(nil)
	for i := range figs {
		figs[i].Runs, figs[i].Value, figs[i].Missing = nil, 0, why
	}
	return figs
}

func vclusterFigure(name, unit, metric string, runs []float64, note string) Figure {
	f := measured(peerVCluster+": "+name, unit, "", runs)
	f.System, f.Metric, f.Note = peerVCluster, metric, note
	return f
}

// withPeerRatios adds to each of tenantry's figures its ratio to the peer's figure of the
// same metric, and appends the peer's figures.
func withPeerRatios(tenantry, peer []Figure) []Figure {
	byMetric := map[string]Figure{}
	for _, f := range peer {
		byMetric[f.Metric] = f
	}
	out := make([]Figure, 0, len(tenantry)+len(peer))
	for _, f := range tenantry {
		if p, ok := byMetric[f.Metric]; ok {
			f = withRatio(f, p.System, p)
		}
		out = append(out, f)
	}
	return append(out, peer...)
}
