package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/internal/localcluster"
)

func TestVClusterValuesSetOnlyTheListedChanges(t *testing.T) {
	vals := vclusterValues()
	leaves := 0
	var count func(any)
	count = func(v any) {
		m, ok := v.(map[string]any)
		if !ok || (len(m) > 0 && m["repository"] != nil) {
			leaves++
			return
		}
		for _, c := range m {
			count(c)
		}
	}
	count(vals)
	if leaves != len(vclusterChanges) {
		t.Errorf("%d values set, want the %d listed changes: %v", leaves, len(vclusterChanges), vals)
	}
	for _, c := range vclusterChanges {
		if got := lookup(vals, c.path...); !reflect.DeepEqual(got, c.value) {
			t.Errorf("%v = %v, want %v", c.path, got, c.value)
		}
		if c.why == "" {
			t.Errorf("%v has no reason", c.path)
		}
	}
}

// TestVClusterChartRendersWithTheOverrides renders vcluster's real chart: both images
// are the one built here, its data is on an emptyDir (so the chart makes a Deployment),
// and the config Secret carries the values. make peers builds the chart; make test does not, so there it skips, saying so.
func TestVClusterChartRendersWithTheOverrides(t *testing.T) {
	dir, err := vclusterComponent()
	if err != nil {
		t.Skipf("vcluster peer not built (make peers builds it): %v", err)
	}
	objs, err := renderVCluster(filepath.Join(dir, "chart"), "bench-vc-1", "vcluster-bench-vc-1")
	if err != nil {
		t.Fatal(err)
	}
	workload := findObject(objs, "Deployment", "bench-vc-1")
	if workload == nil {
		t.Fatalf("no Deployment bench-vc-1 among %d objects", len(objs))
	}
	images := map[string]string{}
	var syncer map[string]any
	for _, kind := range []string{"containers", "initContainers"} {
		list, _, _ := unstructured.NestedSlice(workload.Object, "spec", "template", "spec", kind)
		for _, c := range list {
			m := c.(map[string]any)
			images[m["name"].(string)] = m["image"].(string)
			if m["name"] == "syncer" {
				syncer = m
			}
		}
	}
	res, _, _ := unstructured.NestedMap(syncer, "resources")
	want := map[string]any{"limits": map[string]any{"memory": "4Gi"}, "requests": map[string]any{"cpu": "200m", "memory": "256Mi"}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("syncer resources = %v, want the chart's without ephemeral-storage: %v", res, want)
	}
	if images["syncer"] != vclusterImage || images["kubernetes"] != vclusterImage {
		t.Errorf("images = %v, want syncer and kubernetes both %s", images, vclusterImage)
	}
	volumes, _, _ := unstructured.NestedSlice(workload.Object, "spec", "template", "spec", "volumes")
	var data map[string]any
	for _, v := range volumes {
		if m := v.(map[string]any); m["name"] == "data" {
			data = m
		}
	}
	if data["emptyDir"] == nil {
		t.Errorf("data volume = %v, want an emptyDir", data)
	}
	for i, o := range objs {
		if o.GetAnnotations()["meta.helm.sh/release-name"] != "bench-vc-1" || o.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" {
			t.Errorf("%s %s without Helm's ownership metadata: %v %v", o.GetKind(), o.GetName(), o.GetLabels(), o.GetAnnotations())
		}
		if o.GetKind() == "ServiceAccount" && findObject(objs[:i], "Deployment", "bench-vc-1") != nil {
			t.Errorf("ServiceAccount %s after the Deployment: not Helm's install order", o.GetName())
		}
	}
	secret := findObject(objs, "Secret", "vc-config-bench-vc-1")
	if secret == nil {
		t.Fatal("no config Secret vc-config-bench-vc-1")
	}
	if cfg, _, _ := unstructured.NestedString(secret.Object, "data", "config.yaml"); cfg == "" {
		t.Fatal("config Secret without config.yaml")
	}
}

func TestWithPeerRatios(t *testing.T) {
	mine := nodeRunFigures([]nodeRun{{ready: 14 * time.Second, deploy: 4 * time.Second, cpReady: 210, cpDeploy: 230, componentRSS: 900}}, nil)
	peer := vclusterFigures([]nodeRun{{ready: 20 * time.Second, deploy: 8 * time.Second, cpReady: 300, cpDeploy: 460}})
	want := map[string]float64{"node-ready": 0.7, "node-deploy": 0.5, "node-rss": 0.7, "node-rss-deploy": 0.5}
	figs := withPeerRatios(mine, peer)
	if len(figs) != len(mine)+len(peer) {
		t.Fatalf("%d figures, want %d", len(figs), len(mine)+len(peer))
	}
	for _, f := range figs[:len(mine)] {
		w, ok := want[f.Metric]
		switch {
		case !ok && len(f.Ratios) != 0:
			t.Errorf("%s: ratios %v, want none (vcluster does not measure it)", f.Metric, f.Ratios)
		case ok && (len(f.Ratios) != 1 || f.Ratios[0].Peer != peerVCluster || !near(f.Ratios[0].Value, w)):
			t.Errorf("%s: ratios %v, want %v to %s", f.Metric, f.Ratios, w, peerVCluster)
		}
	}
	missing := withPeerRatios(mine, vclusterMissing("not built"))
	for _, f := range missing[:len(mine)] {
		if len(f.Ratios) != 0 {
			t.Errorf("%s: ratio %v to a missing peer", f.Metric, f.Ratios)
		}
	}
	for _, f := range missing[len(mine):] {
		if f.Missing != "not built" || f.System != peerVCluster {
			t.Errorf("peer figure %+v, want missing with the reason", f)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func lookup(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func findObject(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// TestVClusterPeerOnNode runs one vcluster on the real node as the bench does: its API
// answers through its own kubeconfig, its pod has an RSS, the echo Deployment runs on the
// host through its syncer, and Stop leaves nothing running. It needs root, the node and the
// peer built (make peers), and runs only with TENANTRY_BENCH_NODE_TEST=1: the node is one
// per machine, and `go test ./...` would otherwise start it beside the e2e tier's. Run it as
// TENANTRY_BENCH_NODE_TEST=1 flock /tmp/tenantry-e2e.lock go test -run TestVClusterPeerOnNode ./internal/bench/
func TestVClusterPeerOnNode(t *testing.T) {
	if os.Getenv("TENANTRY_BENCH_NODE_TEST") != "1" {
		t.Skip("starts the real node: set TENANTRY_BENCH_NODE_TEST=1 (and hold /tmp/tenantry-e2e.lock)")
	}
	if _, err := vclusterComponent(); err != nil {
		t.Skipf("vcluster peer not built (make peers builds it): %v", err)
	}
	if err := localcluster.NodeAvailable(); err != nil {
		t.Skipf("no real node here: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, localcluster.Options{Node: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Cleanup()
	log := io.Discard
	if testing.Verbose() {
		log = os.Stderr
	}
	runs, err := vclusterNodeRuns(ctx, c, t.TempDir(), 1, log)
	if err != nil {
		t.Log(c.Logs(40))
		t.Fatal(err)
	}
	r := runs[0]
	if r.ready <= 0 || r.deploy <= 0 || r.cpReady <= 0 || r.cpDeploy <= 0 {
		t.Fatalf("run = %+v, want every figure measured", r)
	}
	if left, err := c.RunningContainers(ctx, "vcluster-bench-vc-1"); err != nil || len(left) != 0 {
		t.Fatalf("after Stop: %d containers left in the peer's namespace (err %v)", len(left), err)
	}
	t.Logf("vcluster: API answering in %s, Deployment in %s, RSS %.0f then %.0f MiB", r.ready, r.deploy, r.cpReady, r.cpDeploy)
}

func TestChartDrawsTheNodeFiguresSideBySide(t *testing.T) {
	mine := nodeRunFigures([]nodeRun{{ready: 14 * time.Second, deploy: 4 * time.Second, cpReady: 210, cpDeploy: 230, componentRSS: 900}}, nil)
	peer := vclusterFigures([]nodeRun{{ready: 20 * time.Second, deploy: 8 * time.Second, cpReady: 300, cpDeploy: 460}})
	rep := &Report{Figures: withPeerRatios(mine, peer)}
	var b strings.Builder
	if err := rep.WriteChart(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<title>tenantry 14 s</title>", "<title>" + peerVCluster + " 20 s</title>",
		"<title>tenantry 210 MiB</title>", "<title>" + peerVCluster + " 460 MiB</title>"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("chart has no bar %q", want)
		}
	}
}

func TestVClusterOrigin(t *testing.T) {
	for _, tc := range []struct {
		annotations map[string]string
		want        string
	}{
		{map[string]string{"vcluster.loft.sh/object-name": "pod-0001", "vcluster.loft.sh/object-namespace": "default"}, "default/pod-0001"},
		{map[string]string{"vcluster.loft.sh/object-namespace": "default"}, ""},
		{nil, ""},
	} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations}}
		if got := vclusterOrigin(p); got != tc.want {
			t.Errorf("vclusterOrigin(%v) = %q, want %q", tc.annotations, got, tc.want)
		}
	}
}
