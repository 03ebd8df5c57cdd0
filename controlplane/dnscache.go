package controlplane

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
)

// informerRecords reads Services and EndpointSlices from an informer cache of the virtual cluster.
type informerRecords struct {
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
}

// startRecords starts the informers and waits (up to a minute) for their first sync.
func startRecords(ctx context.Context, virtual kubernetes.Interface) (Records, error) {
	factory := informers.NewSharedInformerFactory(virtual, 10*time.Minute)
	r := &informerRecords{
		services: factory.Core().V1().Services().Lister(),
		slices:   factory.Discovery().V1().EndpointSlices().Lister(),
	}
	factory.Start(ctx.Done())
	syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for typ, ok := range factory.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			return nil, fmt.Errorf("syncing the DNS cache of %v: %w", typ, syncCtx.Err())
		}
	}
	return r, nil
}

func (r *informerRecords) Service(namespace, name string) (*corev1.Service, error) {
	svc, err := r.services.Services(namespace).Get(name)
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: %w", namespace, name, err)
	}
	return svc, nil
}

func (r *informerRecords) EndpointSlices(namespace, service string) ([]*discoveryv1.EndpointSlice, error) {
	sel := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: service})
	slices, err := r.slices.EndpointSlices(namespace).List(sel)
	if err != nil {
		return nil, fmt.Errorf("endpoint slices of %s/%s: %w", namespace, service, err)
	}
	return slices, nil
}
