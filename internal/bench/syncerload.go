package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/standin"
)

// syncerConcurrency is how many pods the load creates, and the kubelet stand-in marks
// Running, at once.
const syncerConcurrency = 20

// loadLabel marks every pod of a load (created directly or by a Deployment), so the
// virtual watch sees only those.
const loadLabel = "app=bench"

// loadTarget is where a pod load runs: a virtual cluster, its syncer's host namespace, and
// the Node the kubelet stand-in binds the host copies to.
type loadTarget struct {
	host, virtual kubernetes.Interface
	hostNS, node  string
	// schedulerBinds says a host scheduler binds the load's host pods to node (their
	// toleration lets it): the stand-in then only reports them Running. Without one (the
	// syncer bench's host), the stand-in binds them itself.
	schedulerBinds bool
	// origin is the key (namespace/name) of the virtual pod a host pod copies, "" for none:
	// each syncer marks its copies in its own way.
	origin func(*corev1.Pod) string
}

// tenantryOrigin reads tenantry's marks on a host pod.
func tenantryOrigin(p *corev1.Pod) string {
	name := p.Annotations[wellknown.VClusterAnnotationName]
	if name == "" {
		return ""
	}
	return p.Annotations[wellknown.VClusterAnnotationNamespace] + "/" + name
}

// loadOrigin is the key of the virtual pod a host pod copies when that pod is one of the
// loads' (in the virtual default namespace or a pod-intensive one), "" otherwise. The
// stand-in leaves every other pod to the host: a system's own pods, such as vcluster's
// CoreDNS when it is scheduled only after the real node was cordoned, are not the load's,
// and one bound to the stand-in's Node would never leave it.
func (t loadTarget) loadOrigin(p *corev1.Pod) string {
	key := t.origin(p)
	ns, _, _ := strings.Cut(key, "/")
	if ns == metav1.NamespaceDefault || strings.HasPrefix(ns, intensivePrefix) {
		return key
	}
	return ""
}

// podKey is the key loads use for a virtual pod.
func podKey(ns, name string) string { return ns + "/" + name }

// podTimes is when the bench saw one pod pass each step.
type podTimes struct {
	created time.Time // the virtual create call returned (for a controller's pod: first seen)
	onHost  time.Time // the host pod was seen by the host watch
	marked  time.Time // the stand-in's status update (Running, Ready) returned
	running time.Time // the virtual pod was seen Running by the virtual watch
	handed  bool      // the host pod was handed to the stand-in
}

// syncerLoad creates virtual pods, plays the kubelet on the host, and times each step.
type syncerLoad struct {
	target loadTarget
	mu     sync.Mutex
	times  map[string]*podTimes // by podKey of the virtual pod
	work   chan *corev1.Pod
	errs   []error
	// notReady holds pods the stand-in runs that lost their Ready condition; reasserted
	// counts the times it reported one Ready again.
	notReady   chan *corev1.Pod
	reasserted atomic.Int64
}

func newSyncerLoad(target loadTarget, n int) *syncerLoad {
	return &syncerLoad{target: target, times: map[string]*podTimes{}, work: make(chan *corev1.Pod, n+64),
		notReady: make(chan *corev1.Pod, n+64)}
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
	host := informers.NewSharedInformerFactoryWithOptions(l.target.host, 0, informers.WithNamespace(l.target.hostNS))
	_, _ = host.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: l.hostPodAdded, UpdateFunc: func(_, obj any) { l.hostPodUpdated(obj) },
	})
	virtual := informers.NewSharedInformerFactoryWithOptions(l.target.virtual, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = loadLabel }))
	_, _ = virtual.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: l.virtualPodSeen, UpdateFunc: func(_, obj any) { l.virtualPodSeen(obj) },
	})
	host.Start(ctx.Done())
	virtual.Start(ctx.Done())
	kubelet := &standin.Kubelet{Client: l.target.host, Node: l.target.node}
	kubelet.Serve(ctx, l.work, syncerConcurrency, l.started)
	for range reasserters {
		go l.reassertReady(ctx, kubelet)
	}
}

// reasserters is how many workers report pods Ready again.
const reasserters = 2

// hostPodUpdated offers the stand-in a load's pod the host scheduler has bound, and queues
// a pod the stand-in runs whose Ready condition someone else's status write dropped
// (vcluster's syncer writes the host pod's conditions from the virtual pod's), for the
// stand-in to report it Ready again, as a kubelet's status loop does. A full queue drops
// it: its next update queues it again.
func (l *syncerLoad) hostPodUpdated(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if key := l.target.loadOrigin(p); key != "" {
		l.offer(key, p)
	}
	if p.Spec.NodeName != l.target.node || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || podReady(p) {
		return
	}
	select {
	case l.notReady <- p:
	default:
	}
}

func (l *syncerLoad) reassertReady(ctx context.Context, kubelet *standin.Kubelet) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-l.notReady:
			if _, err := kubelet.Running(ctx, p.Namespace, p.Name); err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) {
				l.fail(fmt.Errorf("host pod %s Ready again: %w", p.Name, err))
			}
			l.reasserted.Add(1)
		}
	}
}

func (l *syncerLoad) hostPodAdded(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	key := l.target.loadOrigin(p)
	if key == "" {
		return
	}
	l.record(key, func(t *podTimes) { setOnce(&t.onHost) })
	l.offer(key, p)
}

// offer hands a load's host pod to the stand-in once: when it is bound to the stand-in's
// Node by the host scheduler, or, where the stand-in binds, when first seen unbound.
func (l *syncerLoad) offer(key string, p *corev1.Pod) {
	want := p.Spec.NodeName == ""
	if l.target.schedulerBinds {
		want = p.Spec.NodeName == l.target.node && p.Status.Phase != corev1.PodRunning
	}
	if !want || p.DeletionTimestamp != nil {
		return
	}
	first := false
	l.record(key, func(t *podTimes) { first, t.handed = !t.handed, true })
	if first {
		l.work <- p
	}
}

// virtualPodSeen records a controller's pod as created when first seen, and every pod as
// running once it is Running and Ready.
func (l *syncerLoad) virtualPodSeen(obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	l.record(podKey(p.Namespace, p.Name), func(t *podTimes) {
		if len(p.OwnerReferences) > 0 {
			setOnce(&t.created)
		}
		if p.Status.Phase == corev1.PodRunning && podReady(p) {
			setOnce(&t.running)
		}
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// started records when the stand-in kubelet has bound a host pod and marked it Running
// and Ready (its status update returned), or why it could not.
func (l *syncerLoad) started(p *corev1.Pod, err error) {
	if err != nil {
		l.fail(fmt.Errorf("host %w", err))
		return
	}
	l.record(l.target.origin(p), func(t *podTimes) { setOnce(&t.marked) })
}

// benchPod is a small virtual pod; its image need not exist, as no container runs.
func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}}, Spec: loadPodSpec()}
}

// loadPodSpec is every load pod's spec: one container whose image need not exist, and a
// toleration of the stand-in's taint, so that where a host scheduler runs, it binds the
// host copies to the stand-in's Node and nothing else goes there.
func loadPodSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/bench:1"}},
		Tolerations: []corev1.Toleration{{Key: standinTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}}
}

// create creates the pods in the virtual default namespace, syncerConcurrency at a time,
// and records when each returned.
func (l *syncerLoad) create(ctx context.Context, names []string) error {
	pods := l.target.virtual.CoreV1().Pods(metav1.NamespaceDefault)
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
			l.record(podKey(metav1.NamespaceDefault, name), func(t *podTimes) { setOnce(&t.created) })
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// progress counts the pods among keys seen on the host and seen Running in the virtual
// cluster, and returns the stand-in's first error.
func (l *syncerLoad) progress(keys []string) (onHost, running int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, key := range keys {
		if t := l.times[key]; t != nil {
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

// keys lists every pod the load has seen.
func (l *syncerLoad) keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.times))
	for key := range l.times {
		out = append(out, key)
	}
	return out
}

// waitCount waits until n pods have gone round: on the host, marked Running by the
// stand-in, and seen Running and Ready in the virtual cluster.
func (l *syncerLoad) waitCount(ctx context.Context, n int) error {
	return pollFor(ctx, syncerWait, fmt.Sprintf("%d pods to go round", n), func(context.Context) (bool, error) {
		keys := l.keys()
		onHost, running, err := l.progress(keys)
		if err != nil {
			return false, err
		}
		return running >= n, fmt.Errorf("%d pods seen, %d on the host, %d Running in the virtual cluster", len(keys), onHost, running)
	})
}

// snapshot copies the times of keys.
func (l *syncerLoad) snapshot(keys []string) []podTimes {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]podTimes, 0, len(keys))
	for _, key := range keys {
		if t := l.times[key]; t != nil {
			out = append(out, *t)
		}
	}
	return out
}
