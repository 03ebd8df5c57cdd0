package status

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/tenantry/tenantry/reconciler/render"
)

// Versions keeps the resourceVersion of each host Tenant an agent instance manages, from a
// metadata-only watch: a pass learns which Tenants changed without listing thousands
// (ListVersions was the largest part of a pass that changed nothing at 5,000 tenants). What
// it holds may lag the API server by the watch's delay, as a list taken a moment earlier
// would: a Tenant it does not know yet is opened as a new one is (applied, then read), and
// one whose version it has not caught up with is read again, so a lag costs requests, not
// a wrong decision. Only names and versions are kept.
type Versions struct {
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
}

// WatchVersions starts the watch in the background; Synced tells when it has listed once.
// It runs until Stop.
func WatchVersions(cfg *rest.Config, instance string) (*Versions, error) {
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("building the metadata client: %w", err)
	}
	selector := labels.SelectorFromSet(labels.Set{render.LabelManagedBy: render.ManagedByValue, render.LabelAgent: instance}).String()
	factory := metadatainformer.NewFilteredSharedInformerFactory(mc, 0, metav1.NamespaceAll,
		func(o *metav1.ListOptions) { o.LabelSelector = selector })
	informer := factory.ForResource(TenantGVK.GroupVersion().WithResource("tenants")).Informer()
	if err := informer.SetTransform(nameAndVersion); err != nil {
		return nil, fmt.Errorf("watching host tenants: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	go informer.RunWithContext(ctx)
	return &Versions{informer: informer, stop: stop}, nil
}

// Synced reports whether the watch has listed the Tenants once.
func (v *Versions) Synced() bool { return v.informer.HasSynced() }

// nameAndVersion drops all of a Tenant's metadata but its name and resourceVersion.
func nameAndVersion(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil // a tombstone: the store handles it as it is
	}
	return &metav1.PartialObjectMetadata{TypeMeta: m.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: m.Name, ResourceVersion: m.ResourceVersion}}, nil
}

// Snapshot returns the Tenants' resourceVersions by name, as ListVersions does.
func (v *Versions) Snapshot() map[string]string {
	items := v.informer.GetStore().List()
	out := make(map[string]string, len(items))
	for _, o := range items {
		if m, ok := o.(*metav1.PartialObjectMetadata); ok {
			out[m.Name] = m.ResourceVersion
		}
	}
	return out
}

// Stop ends the watch.
func (v *Versions) Stop() { v.stop() }
