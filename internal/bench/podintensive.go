package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// The shape of kube-burner's pod-intensive workload, which vcluster's own load test runs:
// namespaces × Deployments of one replica each. kube-burner is not served by the Go module
// proxy here, so this is our driver of that shape.
const (
	intensiveNamespaces  = 10
	intensiveDeployments = 100
	intensivePods        = intensiveNamespaces * intensiveDeployments
	// intensivePrefix starts the names of the pod-intensive namespaces.
	intensivePrefix = "burner-"
)

// intensiveRun is what one pod-intensive run measured.
type intensiveRun struct {
	total  time.Duration // the first Deployment's create to the last pod Running and Ready
	ready  []float64     // per pod, seconds: first seen in the virtual cluster to Running and Ready
	toHost []float64     // per pod, seconds: first seen to its host copy seen
	// reasserted counts the times the stand-in reported a pod Ready again.
	reasserted int64
}

// podIntensive creates the namespaces, waits for their default ServiceAccounts, creates
// the Deployments syncerConcurrency at a time, waits until every pod is Running and Ready
// in the virtual cluster, and deletes the namespaces.
func podIntensive(ctx context.Context, s *standinHost, target loadTarget) (*intensiveRun, error) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	load := newSyncerLoad(target, intensivePods)
	load.start(lctx)
	namespaces, err := intensiveNamespacesReady(ctx, target)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	if err := createDeployments(ctx, target, namespaces); err != nil {
		return nil, err
	}
	if err := load.waitCount(ctx, intensivePods); err != nil {
		return nil, err
	}
	r := intensiveRunOf(began, load.snapshot(load.keys()))
	r.reasserted = load.reasserted.Load()
	cancel()
	return r, deleteIntensive(ctx, s, target, namespaces)
}

func intensiveNamespacesReady(ctx context.Context, target loadTarget) ([]string, error) {
	var names []string
	for i := range intensiveNamespaces {
		ns := fmt.Sprintf("%s%d", intensivePrefix, i)
		obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if _, err := target.virtual.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("creating virtual namespace %s: %w", ns, err)
		}
		names = append(names, ns)
	}
	for _, ns := range names {
		if err := defaultServiceAccount(ctx, target, ns); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// defaultServiceAccount waits for the virtual controller manager to make ns's default
// ServiceAccount, without which pods are refused.
func defaultServiceAccount(ctx context.Context, target loadTarget, ns string) error {
	return pollUntil(ctx, "ServiceAccount "+ns+"/default", func(ctx context.Context) (bool, error) {
		_, err := target.virtual.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
}

// createDeployments creates intensiveDeployments in each namespace, syncerConcurrency at once.
func createDeployments(ctx context.Context, target loadTarget, namespaces []string) error {
	sem := make(chan struct{}, syncerConcurrency)
	errs := make(chan error, intensivePods)
	var wg sync.WaitGroup
	for _, ns := range namespaces {
		for i := range intensiveDeployments {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				d := burnerDeployment(fmt.Sprintf("deploy-%03d", i))
				if _, err := target.virtual.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("creating Deployment %s/%s: %w", ns, d.Name, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// burnerDeployment is one Deployment of the shape: one replica of a small pod whose image
// need not exist, as no container runs.
func burnerDeployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": "bench", "deployment": name}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: loadPodSpec()}}}
}

// deleteIntensive deletes the namespaces, finishes their host pods' deletion as a kubelet
// would, and waits until the namespaces are gone.
func deleteIntensive(ctx context.Context, s *standinHost, target loadTarget, namespaces []string) error {
	for _, ns := range namespaces {
		if err := target.virtual.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("deleting virtual namespace %s: %w", ns, err)
		}
	}
	if err := s.finish(ctx, target.hostNS); err != nil {
		return err
	}
	return pollFor(ctx, syncerWait, "the virtual namespaces to go", func(ctx context.Context) (bool, error) {
		list, err := target.virtual.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: loadLabel})
		if err != nil {
			return false, err
		}
		return len(list.Items) == 0, fmt.Errorf("%d virtual pods left", len(list.Items))
	})
}

// intensiveRunOf turns the pods' times into one run's figures. Pods the load did not see
// go round (a host copy of something else in the namespace) are left out.
func intensiveRunOf(began time.Time, pods []podTimes) *intensiveRun {
	r := &intensiveRun{}
	for _, p := range pods {
		if p.created.IsZero() || p.onHost.IsZero() || p.running.IsZero() {
			continue
		}
		r.ready = append(r.ready, p.running.Sub(p.created).Seconds())
		r.toHost = append(r.toHost, p.onHost.Sub(p.created).Seconds())
		r.total = max(r.total, p.running.Sub(began))
	}
	return r
}
