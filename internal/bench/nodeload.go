package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// loadPods is how many pods the direct load creates in each virtual cluster.
const loadPods = 1000

// loadRun is what the pod loads measured on one virtual cluster on the real node's host.
type loadRun struct {
	pods      syncerRun    // loadPods pods created directly in the virtual default namespace
	intensive intensiveRun // kube-burner's pod-intensive shape
	rss       float64      // the control plane's RSS after both, MiB
}

// runLoads runs the direct load, then the pod-intensive shape, on target, each cleaned up
// before the next; then reads the control plane's RSS with rss.
func runLoads(ctx context.Context, s *standinHost, target loadTarget, rss func(context.Context) (float64, error)) (*loadRun, error) {
	r := &loadRun{}
	pods, err := podsLoad(ctx, s, target, loadPods)
	if err != nil {
		return nil, fmt.Errorf("%d pods: %w", loadPods, err)
	}
	r.pods = *pods
	intensive, err := podIntensive(ctx, s, target)
	if err != nil {
		return nil, fmt.Errorf("pod-intensive: %w", err)
	}
	r.intensive = *intensive
	if r.rss, err = rss(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// podsLoad creates a warm-up pod, then n pods, in the virtual default namespace, times
// each to the host and back as the syncer bench does, and deletes them.
func podsLoad(ctx context.Context, s *standinHost, target loadTarget, n int) (*syncerRun, error) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	load := newSyncerLoad(target, n+1)
	load.start(lctx)
	if err := defaultServiceAccount(ctx, target, metav1.NamespaceDefault); err != nil {
		return nil, err
	}
	if err := load.createAndWait(ctx, []string{"warm-up"}); err != nil {
		return nil, fmt.Errorf("warm-up pod: %w", err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("pod-%04d", i)
	}
	began, cpu := time.Now(), machineCPU()
	profiled := profileLoad(ctx, target)
	if err := load.createAndWait(ctx, names); err != nil {
		return nil, err
	}
	r := syncerRunOf(began, load.snapshot(defaultKeys(names)))
	r.processes = topCPU(cpu, machineCPU(), 12)
	profiled()
	r.reasserted = load.reasserted.Load()
	cancel()
	pods := target.virtual.CoreV1().Pods(metav1.NamespaceDefault)
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: loadLabel}); err != nil {
		return nil, fmt.Errorf("deleting the virtual pods: %w", err)
	}
	if err := s.finish(ctx, target.hostNS); err != nil {
		return nil, err
	}
	return r, pollFor(ctx, syncerWait, "the virtual pods to go", func(ctx context.Context) (bool, error) {
		list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: loadLabel})
		if err != nil {
			return false, err
		}
		return len(list.Items) == 0, fmt.Errorf("%d virtual pods left", len(list.Items))
	})
}

// loadProfileSeconds is how much of the 1,000-pod load the API servers' CPU profiles cover.
const loadProfileSeconds = 20

// profileLoad saves CPU profiles of the host's and the virtual kube-apiserver over the
// load's first loadProfileSeconds to the directory profileEnv names (nothing without it),
// as {host,virtual}-apiserver-load-<host namespace>-<time>.cpu.pprof. Each server must
// serve /debug/pprof to the bench's client: the host's does with profileEnv; a virtual one
// only if its system turns profiling on (tenantry's runs with --profiling=false, so an
// image built with it on is needed). The returned func waits for both.
func profileLoad(ctx context.Context, target loadTarget) func() {
	dir := os.Getenv(profileEnv)
	if dir == "" {
		return func() {}
	}
	at := time.Now().Format("150405")
	var wg sync.WaitGroup
	for file, cs := range map[string]kubernetes.Interface{
		"host-apiserver-load-" + target.hostNS: target.host, "virtual-apiserver-load-" + target.hostNS: target.virtual,
	} {
		wg.Go(func() {
			if err := saveCPUProfile(ctx, cs, filepath.Join(dir, file+"-"+at+".cpu.pprof"), loadProfileSeconds); err != nil {
				fmt.Fprintf(os.Stderr, "bench: %s profile: %v\n", file, err)
			}
		})
	}
	return wg.Wait
}

// createAndWait creates the named pods and waits for each to go round.
func (l *syncerLoad) createAndWait(ctx context.Context, names []string) error {
	if err := l.create(ctx, names); err != nil {
		return err
	}
	return l.wait(ctx, func() error { return nil }, defaultKeys(names))
}
