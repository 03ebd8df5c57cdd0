package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/standin"
)

// syncerConcurrency is how many pods the load creates, and the kubelet stand-in marks
// Running, at once.
const syncerConcurrency = 20

// podTimes is when the bench saw one pod pass each step.
type podTimes struct {
	created time.Time // the virtual create call returned
	onHost  time.Time // the host pod was seen by the host watch
	marked  time.Time // the stand-in's status update (Running, Ready) returned
	running time.Time // the virtual pod was seen Running by the virtual watch
}

// syncerLoad creates virtual pods, plays the kubelet on the host, and times each step.
type syncerLoad struct {
	env   *syncerEnv
	mu    sync.Mutex
	times map[string]*podTimes // by virtual pod name
	work  chan *corev1.Pod
	errs  []error
}

func newSyncerLoad(env *syncerEnv, n int) *syncerLoad {
	return &syncerLoad{env: env, times: map[string]*podTimes{}, work: make(chan *corev1.Pod, n+64)}
}

// record sets one step's time of a pod with set, unless set says it is already taken.
func (l *syncerLoad) record(name string, set func(*podTimes)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.times[name]
	if t == nil {
		t = &podTimes{}
		l.times[name] = t
	}
	set(t)
}

func setOnce(field *time.Time) {
	if field.IsZero() {
		*field = time.Now()
	}
}

func (l *syncerLoad) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// start runs the host and virtual watches and the stand-in's workers until ctx ends.
func (l *syncerLoad) start(ctx context.Context) {
	host := informers.NewSharedInformerFactoryWithOptions(l.env.hostCS, 0, informers.WithNamespace(syncerHostNS))
	_, _ = host.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: l.hostPodAdded})
	virtual := informers.NewSharedInformerFactoryWithOptions(l.env.virtualCS, 0, informers.WithNamespace(metav1.NamespaceDefault))
	_, _ = virtual.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: l.virtualPodSeen, UpdateFunc: func(_, obj any) { l.virtualPodSeen(obj) },
	})
	host.Start(ctx.Done())
	virtual.Start(ctx.Done())
	kubelet := &standin.Kubelet{Client: l.env.hostCS, Node: syncerNode}
	kubelet.Serve(ctx, l.work, syncerConcurrency, l.started)
}

func (l *syncerLoad) hostPodAdded(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	l.record(p.Annotations[wellknown.VClusterAnnotationName], func(t *podTimes) { setOnce(&t.onHost) })
	if p.Spec.NodeName == "" {
		l.work <- p
	}
}

func (l *syncerLoad) virtualPodSeen(obj any) {
	p, ok := obj.(*corev1.Pod)
	if ok && p.Status.Phase == corev1.PodRunning {
		l.record(p.Name, func(t *podTimes) { setOnce(&t.running) })
	}
}

// started records when the stand-in kubelet has bound a host pod and marked it Running
// and Ready (its status update returned), or why it could not.
func (l *syncerLoad) started(p *corev1.Pod, err error) {
	if err != nil {
		l.fail(fmt.Errorf("host %w", err))
		return
	}
	l.record(p.Annotations[wellknown.VClusterAnnotationName], func(t *podTimes) { setOnce(&t.marked) })
}

// benchPod is a small virtual pod; its image need not exist, as no container runs.
func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/bench:1"}}}}
}

// create creates the pods, syncerConcurrency at a time, and records when each returned.
func (l *syncerLoad) create(ctx context.Context, names []string) error {
	pods := l.env.virtualCS.CoreV1().Pods(metav1.NamespaceDefault)
	sem := make(chan struct{}, syncerConcurrency)
	errs := make(chan error, len(names))
	var wg sync.WaitGroup
	for _, name := range names {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := pods.Create(ctx, benchPod(name), metav1.CreateOptions{}); err != nil {
				errs <- fmt.Errorf("creating virtual pod %s: %w", name, err)
				return
			}
			l.record(name, func(t *podTimes) { setOnce(&t.created) })
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// progress counts the pods among names seen on the host and seen Running in the virtual
// cluster, and returns the stand-in's first error.
func (l *syncerLoad) progress(names []string) (onHost, running int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, name := range names {
		if t := l.times[name]; t != nil {
			onHost += b2i(!t.onHost.IsZero())
			running += b2i(!t.running.IsZero() && !t.marked.IsZero())
		}
	}
	if len(l.errs) > 0 {
		err = l.errs[0]
	}
	return onHost, running, err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// snapshot copies the times of names.
func (l *syncerLoad) snapshot(names []string) []podTimes {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]podTimes, 0, len(names))
	for _, name := range names {
		if t := l.times[name]; t != nil {
			out = append(out, *t)
		}
	}
	return out
}
