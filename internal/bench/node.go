package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/internal/localcluster"
	"github.com/tenantry/tenantry/internal/localrepo"
	"github.com/tenantry/tenantry/reconciler"
	"github.com/tenantry/tenantry/reconciler/render"
	"github.com/tenantry/tenantry/reconciler/source"
	"github.com/tenantry/tenantry/reconciler/status"
)

const (
	// nodeImage is the virtual cluster image the node imports from bin/images at start.
	nodeImage = "tenantry-vcluster-v1.37.2.tar"
	// nodeReplicas is the size of the Deployment created in each virtual cluster.
	nodeReplicas = 3
	// nodeKeep is a paused tenant that keeps the repo from going empty when a measured
	// tenant's file is removed (the agent holds back pruning of an empty checkout).
	nodeKeep = "bench-node-keep"
	// nodeWait bounds every wait of a node run.
	nodeWait = 3 * time.Minute
)

// nodeRun is what one tenant on the real node measured: durations, and RSS in MiB.
type nodeRun struct {
	ready, deploy                   time.Duration
	cpReady, cpDeploy, componentRSS float64
	timeline                        string // where the Deployment's time went (deployTimeline)
}

// nodeBench is one host with a real node, a tenants repo and an agent reconciling it.
type nodeBench struct {
	c     *localcluster.Cluster
	cs    kubernetes.Interface
	repo  *localrepo.Repo
	src   *source.Source
	agent *reconciler.Agent
}

// nodeFigures measures, on one host with a real node, o.Runs fresh tenants: commit to the
// virtual API ready, a Deployment in it to containers running, and RSS. Where the node
// cannot start it says why in the log and returns no figures.
func nodeFigures(ctx context.Context, o Options) ([]Figure, error) {
	if err := nodeUnavailable(); err != nil {
		fmt.Fprintf(o.Log, "bench: no node figures, the real node cannot run here: %v\n", err)
		return nil, nil
	}
	c, err := localcluster.Start(ctx, localcluster.Options{Node: true, Profiling: os.Getenv(profileEnv) != ""})
	if err != nil {
		return nil, fmt.Errorf("starting the host and its node: %w", err)
	}
	defer stopNode(c, o)
	b, err := newNodeBench(ctx, c, filepath.Join(o.Work, "node"))
	if err != nil {
		return nil, err
	}
	defer b.agent.Close()
	var runs []nodeRun
	for i := 1; i <= o.Runs; i++ {
		fmt.Fprintf(o.Log, "bench: real node, run %d/%d\n", i, o.Runs)
		r, err := b.run(ctx, fmt.Sprintf("bench-node-%d", i))
		if err != nil {
			return nil, fmt.Errorf("node run %d: %w", i, err)
		}
		fmt.Fprintf(o.Log, "bench: real node, run %d/%d: Ready in %.1f s, Deployment in %.1f s (%s), control plane %.0f then %.0f MiB, components %.0f MiB\n",
			i, o.Runs, r.ready.Seconds(), r.deploy.Seconds(), r.timeline, r.cpReady, r.cpDeploy, r.componentRSS)
		runs = append(runs, *r)
	}
	figs := nodeRunFigures(runs, componentNames(c))
	systems := []loadSystem{&tenantryLoad{b: b}}
	if o.VCluster {
		var ran bool
		if figs, ran = withVClusterNode(ctx, c, o, figs); ran {
			systems = append(systems, &vclusterLoad{c: c})
		}
	}
	if o.NodeLoad {
		figs = append(figs, loadFigures(ctx, o, systems)...)
	}
	return figs, nil
}

// withVClusterNode runs the vcluster peer on the node and adds its figures and the
// ratios, and says whether it ran; a peer that cannot run is reported as missing, saying why.
func withVClusterNode(ctx context.Context, c *localcluster.Cluster, o Options, figs []Figure) ([]Figure, bool) {
	peer, err := vclusterNodeRuns(ctx, c, filepath.Join(o.Work, "vcluster"), o.Runs, o.Log)
	if err != nil {
		fmt.Fprintf(o.Log, "bench: %s: %v\n", peerVCluster, err)
		return withPeerRatios(figs, vclusterMissing(err.Error())), false
	}
	return withPeerRatios(figs, vclusterFigures(peer)), true
}

// nodeUnavailable says why the node figures cannot be measured here, or nil.
func nodeUnavailable() error {
	if err := localcluster.NodeAvailable(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join("bin", "images", nodeImage)); err != nil {
		return fmt.Errorf("needs bin/images/%s (run `make images` in the repository root): %w", nodeImage, err)
	}
	return nil
}

func stopNode(c *localcluster.Cluster, o Options) {
	c.Cleanup()
	if err := c.NodeCleanupError(); err != nil {
		fmt.Fprintf(o.Log, "bench: the node's clean-up left something behind: %v\n", err)
	}
}

// nodeDefaultsYAML is the node bench repo's defaults.yaml: the load's tenant may tolerate
// the stand-in's taint (a tenant file cannot grant itself tolerations).
const nodeDefaultsYAML = `apiVersion: tenantry.dev/v1alpha1
kind: TenantDefaults
spec:
  tenantExceptions:
  - {tenants: [` + loadTenant + `], allowTolerations: true}
`

// newNodeBench makes the repo and the agent, and syncs the paused placeholder tenant.
func newNodeBench(ctx context.Context, c *localcluster.Cluster, dir string) (*nodeBench, error) {
	b := &nodeBench{c: c}
	var err error
	if b.cs, err = kubernetes.NewForConfig(c.Config); err != nil {
		return nil, fmt.Errorf("host client: %w", err)
	}
	if b.repo, err = localrepo.Init(filepath.Join(dir, "repo")); err != nil {
		return nil, err
	}
	if b.src, err = source.New(source.Options{URL: b.repo.URL(), Dir: filepath.Join(dir, "checkouts")}); err != nil {
		return nil, err
	}
	b.agent, err = reconciler.New(c.Config, reconciler.Options{
		Instance: "bench-node", VirtualClusters: true, HealthTimeout: nodeWait,
		VCluster: render.VClusterOptions{ImageRepository: render.DefaultVClusterImage, PullPolicy: corev1.PullNever},
	})
	if err != nil {
		return nil, err
	}
	if err = b.agent.InstallCRDs(ctx); err == nil {
		err = b.repo.Write("defaults.yaml", []byte(nodeDefaultsYAML))
	}
	if err == nil {
		err = b.commitAndSync(ctx, nodeKeep, nodeTenantYAML(nodeKeep, true))
	}
	if err != nil {
		b.agent.Close()
		return nil, err
	}
	return b, nil
}

// nodeTenantYAML is a tenant whose virtual cluster keeps its data on an emptyDir (the
// node has no need of a volume here) and whose removal deletes its namespace.
func nodeTenantYAML(name string, paused bool) string {
	return benchTenantYAML(name, `quota: {pods: "10", cpu: "8"}`, "limits:", "  default: {cpu: 500m}", fmt.Sprintf("paused: %t", paused))
}

// benchTenantYAML is a node bench tenant on Kubernetes 1.37 with its data on an emptyDir,
// deleted with its namespace, plus the spec lines given.
func benchTenantYAML(name string, spec ...string) string {
	var extra strings.Builder
	for _, line := range spec {
		extra.WriteString("  " + line + "\n")
	}
	return fmt.Sprintf(`apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: %s
spec:
  kubernetesVersion: "1.37"
  owners:
  - {kind: User, name: %s-owner}
  persistence: {size: "0"}
  deletionPolicy: Delete
%s`, name, name, extra.String())
}

// run measures one fresh tenant, then deletes it.
func (b *nodeBench) run(ctx context.Context, name string) (*nodeRun, error) {
	r := &nodeRun{}
	began := time.Now()
	if err := b.commitAndSync(ctx, name, nodeTenantYAML(name, false)); err != nil {
		return nil, err
	}
	r.ready = time.Since(began)
	tn, err := b.readyTenant(ctx, name)
	if err != nil {
		return nil, err
	}
	ns, cp := tn.HostNamespace(), render.VClusterName(tn)+"-0"
	if r.cpReady, err = b.podRSS(ctx, ns, cp); err != nil {
		return nil, err
	}
	virtual, err := b.virtualClient(ctx, tn)
	if err != nil {
		return nil, err
	}
	if r.deploy, err = deploy(ctx, b.c, virtual, ns, name); err != nil {
		return nil, err
	}
	r.timeline = deployTimeline(ctx, b.cs, virtual, ns, name)
	if r.cpDeploy, err = b.podRSS(ctx, ns, cp); err != nil {
		return nil, err
	}
	r.componentRSS = componentsRSS(b.c)
	return r, b.remove(ctx, name, ns)
}

// commitAndSync commits tenants/<name>.yaml (removes it for an empty body) and runs one
// agent pass, which waits for the virtual control plane's rollout.
func (b *nodeBench) commitAndSync(ctx context.Context, name, body string) error {
	path := "tenants/" + name + ".yaml"
	var err error
	if body == "" {
		err = b.repo.Remove(path)
	} else {
		err = b.repo.Write(path, []byte(body))
	}
	if err != nil {
		return err
	}
	if _, err := b.repo.Commit("tenant " + name); err != nil {
		return err
	}
	art, _, err := b.src.Fetch(ctx)
	if err != nil {
		return err
	}
	res, err := b.agent.Sync(ctx, art.Path, art.Revision)
	if err != nil {
		return fmt.Errorf("agent pass: %w", err)
	}
	if res.Failed() || res.HeldBack != "" {
		return fmt.Errorf("agent pass failed: %s%s", firstError(res), res.HeldBack)
	}
	return nil
}

// readyTenant returns the host Tenant, or an error unless it is Ready with its control plane.
func (b *nodeBench) readyTenant(ctx context.Context, name string) (*v1alpha1.Tenant, error) {
	all, err := status.ListTenants(ctx, b.agent.Client())
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Name != name {
			continue
		}
		c := apimeta.FindStatusCondition(all[i].Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || all[i].Status.ControlPlane == nil || !all[i].Status.ControlPlane.Ready {
			return nil, fmt.Errorf("tenant %s not Ready: %+v, control plane %+v", name, c, all[i].Status.ControlPlane)
		}
		return &all[i], nil
	}
	return nil, fmt.Errorf("no Tenant %s", name)
}

func (b *nodeBench) podRSS(ctx context.Context, ns, pod string) (float64, error) {
	rss, err := b.c.PodRSS(ctx, ns, pod)
	return float64(rss) / (1 << 20), err
}

// componentsRSS is the RSS, in MiB, of the host's and the node's processes.
func componentsRSS(c *localcluster.Cluster) float64 {
	var total int64
	for _, rss := range c.RSS() {
		total += rss
	}
	return float64(total) / (1 << 20)
}

func componentNames(c *localcluster.Cluster) []string {
	var names []string
	for name := range c.RSS() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// remove deletes the tenant's file and waits until its namespace and containers are gone.
func (b *nodeBench) remove(ctx context.Context, name, ns string) error {
	if err := b.commitAndSync(ctx, name, ""); err != nil {
		return err
	}
	return pollUntil(ctx, "namespace "+ns+" and its containers to go", func(ctx context.Context) (bool, error) {
		if _, err := b.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("namespace still there (err %w)", err)
		}
		list, err := b.c.RunningContainers(ctx, ns)
		return err == nil && len(list) == 0, fmt.Errorf("%d containers (err %w)", len(list), err)
	})
}

// nodeRunFigures turns the runs into figures (medians).
func nodeRunFigures(runs []nodeRun, components []string) []Figure {
	var ready, deploy, cpReady, cpDeploy, comp []float64
	for _, r := range runs {
		ready, deploy = append(ready, r.ready.Seconds()), append(deploy, r.deploy.Seconds())
		cpReady, cpDeploy, comp = append(cpReady, r.cpReady), append(cpDeploy, r.cpDeploy), append(comp, r.componentRSS)
	}
	note := "real node (containerd, kubelet, kube-proxy) on the same machine; image import at node start not included"
	return []Figure{
		nodeFigure("virtual API ready on a real node (commit to Ready)", "s", "node-ready", ready, "≤ 1.0x vcluster",
			"fetch, render, apply, StatefulSet rollout until the agent's pass returns with status.controlPlane.ready; "+note),
		nodeFigure(fmt.Sprintf("virtual Deployment (%d replicas) to containers running", nodeReplicas), "s", "node-deploy", deploy, "",
			"create in the virtual cluster until its pods are Running and Ready there and their containers run in the node's containerd; "+note),
		nodeFigure("tenant control plane RSS on the node (after Ready)", "MiB", "node-rss", cpReady, "≤ 0.7x vcluster",
			"total_rss of the control plane pod's container cgroups (kine, kube-apiserver, kube-controller-manager, DNS, syncer)"),
		nodeFigure(fmt.Sprintf("tenant control plane RSS on the node (%d-replica Deployment running)", nodeReplicas), "MiB", "node-rss-deploy", cpDeploy, "≤ 0.7x vcluster",
			"as above, once the Deployment runs"),
		nodeFigure("node components RSS (host and node processes)", "MiB", "node-components-rss", comp, "",
			"VmRSS of "+strings.Join(components, ", ")+"; containers and shims not counted"),
	}
}

func nodeFigure(name, unit, metric string, runs []float64, target, note string) Figure {
	f := measured(name, unit, target, runs)
	f.System, f.Metric, f.Note = systemTenantry, metric, note
	return f
}
