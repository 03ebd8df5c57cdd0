package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// syncerWait bounds each wait of a syncer run.
const syncerWait = 20 * time.Minute

// syncerRun is what one syncer run measured.
type syncerRun struct {
	// createdTotal is from the first create until the last create returned: how fast the
	// virtual API server took the load in, apart from the syncer.
	createdTotal, toHostTotal, runningTotal time.Duration
	toHost, back                            []float64 // per pod, in seconds
	cpu, rssMiB                             float64
	reasserted                              int64 // times the stand-in reported a pod Ready again
	// progress is how many pods had been created, were on the host and Running, every
	// progressStep from the first create: where a total's time went.
	progress string
	// processes is where the machine's CPU went while the pods went round (topCPU).
	processes string
}

// progressStep is the step of syncerRun.progress.
const progressStep = 5 * time.Second

// syncerFigures measures the syncer, in its own process, on o.Runs fresh pairs of host
// and virtual control planes, each with o.syncerPods() pods created in the virtual
// cluster. A run that fails makes every figure missing, with the reason.
func syncerFigures(ctx context.Context, o Options) []Figure {
	n := o.syncerPods()
	var runs []syncerRun
	for i := range o.Runs {
		fmt.Fprintf(o.Log, "bench: syncer, %d pods, run %d/%d\n", n, i+1, o.Runs)
		r, err := runSyncerBench(ctx, n, filepath.Join(o.Work, fmt.Sprintf("syncer-%d", i)), o.SyncerHostQPS)
		if err != nil {
			fmt.Fprintf(o.Log, "bench: syncer run failed: %v\n", err)
			return syncerMissing(n, err.Error())
		}
		fmt.Fprintf(o.Log, "bench: syncer, run %d/%d: all on the host in %.1f s (p50 %.2f s, p99 %.2f s), status back p50 %.2f s, p99 %.2f s; CPU %.1f s, peak RSS %.0f MiB\n",
			i+1, o.Runs, r.toHostTotal.Seconds(), percentile(r.toHost, 50), percentile(r.toHost, 99),
			percentile(r.back, 50), percentile(r.back, 99), r.cpu, r.rssMiB)
		runs = append(runs, *r)
	}
	return syncerRunFigures(n, o.SyncerHostQPS, runs)
}

func (o Options) syncerPods() int {
	if o.SyncerPods > 0 {
		return o.SyncerPods
	}
	return 1000
}

// runSyncerBench is one run: control planes, the syncer's process, a warm-up pod, then
// n pods, until every one is Running in the virtual cluster.
func runSyncerBench(ctx context.Context, n int, dir string, hostQPS float32) (*syncerRun, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	env, err := newSyncerEnv(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer env.cleanup()
	cfgPath, err := env.writeSyncerConfig(dir, hostQPS)
	if err != nil {
		return nil, err
	}
	child, err := startSyncerChild(cfgPath, filepath.Join(dir, "syncer.log"))
	if err != nil {
		return nil, err
	}
	r, err := measureSyncer(ctx, env, child, n)
	if stopErr := child.stop(); err == nil && stopErr != nil {
		err = stopErr
	}
	return r, err
}

// measureSyncer waits for a warm-up pod to go round, so the syncer has started, then
// creates n pods and times them; CPU is counted from after the warm-up.
func measureSyncer(ctx context.Context, env *syncerEnv, child *syncerChild, n int) (*syncerRun, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	load := newSyncerLoad(env.loadTarget(), n+1)
	load.start(ctx)
	if err := load.runPods(ctx, child, []string{"warm-up"}); err != nil {
		return nil, fmt.Errorf("warm-up pod: %w", err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("pod-%04d", i)
	}
	cpu0 := processCPU(child.pid())
	began := time.Now()
	if err := load.runPods(ctx, child, names); err != nil {
		return nil, err
	}
	r := syncerRunOf(began, load.snapshot(defaultKeys(names)))
	r.cpu = processCPU(child.pid()) - cpu0
	r.rssMiB = procStatusMiB(fmt.Sprintf("/proc/%d/status", child.pid()), "VmHWM:")
	return r, nil
}

// runPods creates the pods and waits until each is on the host and Running in the
// virtual cluster after the stand-in marked it so.
func (l *syncerLoad) runPods(ctx context.Context, child *syncerChild, names []string) error {
	if err := l.create(ctx, names); err != nil {
		return err
	}
	return l.wait(ctx, child.alive, defaultKeys(names))
}

// defaultKeys are the keys of the named pods of the virtual default namespace.
func defaultKeys(names []string) []string {
	keys := make([]string, len(names))
	for i, name := range names {
		keys[i] = podKey(metav1.NamespaceDefault, name)
	}
	return keys
}

// wait waits until every pod of keys is on the host and Running in the virtual cluster
// after the stand-in marked it so, while alive says the syncer runs.
func (l *syncerLoad) wait(ctx context.Context, alive func() error, keys []string) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, syncerWait, true, func(context.Context) (bool, error) {
		if err := alive(); err != nil {
			return false, err
		}
		onHost, running, err := l.progress(keys)
		if err != nil {
			return false, err
		}
		last = fmt.Errorf("%d of %d pods on the host, %d Running in the virtual cluster", onHost, len(keys), running)
		return running == len(keys), nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d pods: %w (%w)", len(keys), err, last)
	}
	return nil
}

// syncerRunOf turns the pods' times into one run's figures.
func syncerRunOf(began time.Time, pods []podTimes) *syncerRun {
	r := &syncerRun{}
	for _, p := range pods {
		r.toHost = append(r.toHost, p.onHost.Sub(p.created).Seconds())
		r.back = append(r.back, p.running.Sub(p.marked).Seconds())
		r.createdTotal = max(r.createdTotal, p.created.Sub(began))
		r.toHostTotal = max(r.toHostTotal, p.onHost.Sub(began))
		r.runningTotal = max(r.runningTotal, p.running.Sub(began))
	}
	r.progress = progressOf(began, pods, max(r.createdTotal, r.toHostTotal, r.runningTotal))
	return r
}

// progressOf counts, at every progressStep until end, the pods created, on the host and
// Running by then, as "5s 180/150/20, 10s ...".
func progressOf(began time.Time, pods []podTimes, end time.Duration) string {
	var steps []string
	for at := progressStep; at < end+progressStep; at += progressStep {
		var created, onHost, running int
		for _, p := range pods {
			created += b2i(!p.created.IsZero() && p.created.Sub(began) <= at)
			onHost += b2i(!p.onHost.IsZero() && p.onHost.Sub(began) <= at)
			running += b2i(!p.running.IsZero() && p.running.Sub(began) <= at)
		}
		steps = append(steps, fmt.Sprintf("%s %d/%d/%d", at, created, onHost, running))
	}
	return strings.Join(steps, ", ")
}

// percentile is the nearest-rank p-th percentile of values (0 for none).
func percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
