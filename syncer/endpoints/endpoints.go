// Package endpoints syncs the Endpoints of selector-less services to the host.
package endpoints

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantry/tenantry/syncer/allowlist"
	"github.com/tenantry/tenantry/syncer/metricsapi"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Kind is the endpoints kind recorded on host objects.
const Kind = "Endpoints"

// Syncer syncs Endpoints of services without a selector (the host computes the others).
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
//
//nolint:staticcheck // users still write Endpoints for selector-less services.
func (Syncer) New() client.Object { return &corev1.Endpoints{} }

// Wanted syncs the Endpoints of a synced service that has no selector (not those of the
// metrics API's Service, which the Service syncer leaves out too).
func (Syncer) Wanted(ctx context.Context, sc *synccontext.Context, vObj client.Object) (bool, error) {
	if vObj.GetNamespace() == "default" && vObj.GetName() == "kubernetes" || metricsapi.OwnService(vObj.GetNamespace(), vObj.GetName()) {
		return false, nil
	}
	var svc corev1.Service
	if err := sc.Virtual.Get(ctx, client.ObjectKeyFromObject(vObj), &svc); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return false, nil
		}
		return false, fmt.Errorf("reading the service of endpoints %s: %w", vObj.GetName(), err)
	}
	return len(svc.Spec.Selector) == 0 && svc.Spec.Type != corev1.ServiceTypeExternalName, nil
}

// Watch re-checks Endpoints when their service changes.
func (Syncer) Watch(b *builder.Builder, _ *synccontext.Context) *builder.Builder {
	return b.Watches(&corev1.Service{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: client.ObjectKeyFromObject(obj)}}
	}))
}

// Fields is the allow-list of host Endpoints (see package allowlist).
var Fields = allowlist.Join(allowlist.Metadata, allowlist.List{
	"subsets[].addresses[].ip", "subsets[].addresses[].hostname", "subsets[].addresses[].targetRef.kind",
	"subsets[].addresses[].targetRef.namespace", "subsets[].addresses[].targetRef.name",
	"subsets[].notReadyAddresses[].ip", "subsets[].notReadyAddresses[].hostname", "subsets[].notReadyAddresses[].targetRef.kind",
	"subsets[].notReadyAddresses[].targetRef.namespace", "subsets[].notReadyAddresses[].targetRef.name",
	"subsets[].ports[].name", "subsets[].ports[].port", "subsets[].ports[].protocol", "subsets[].ports[].appProtocol",
})

// OwnsIP reports whether ip is the address of one of this vcluster's running host pods.
type OwnsIP func(ip string) (bool, error)

// IndexHost indexes the host cache's pods (this vcluster's only) by pod IP.
func (Syncer) IndexHost(ctx context.Context, idx client.FieldIndexer) error {
	err := idx.IndexField(ctx, &corev1.Pod{}, synccontext.IndexHostPodIP, func(obj client.Object) []string {
		p := obj.(*corev1.Pod)
		if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			return nil // a host-network pod's IP is the node's
		}
		out := make([]string, 0, len(p.Status.PodIPs))
		for _, ip := range p.Status.PodIPs {
			out = append(out, ip.IP)
		}
		return out
	})
	if err != nil {
		return fmt.Errorf("indexing host pods by IP: %w", err)
	}
	return nil
}

// hostOwnsIP looks ip up in the host cache's pod index: no API call.
func hostOwnsIP(ctx context.Context, sc *synccontext.Context) OwnsIP {
	return func(ip string) (bool, error) {
		var pods corev1.PodList
		err := sc.Host.List(ctx, &pods, client.InNamespace(sc.HostNamespace), client.MatchingFields{synccontext.IndexHostPodIP: ip})
		if err != nil {
			return false, fmt.Errorf("looking up host pods with IP %s: %w", ip, err)
		}
		for i := range pods.Items {
			if sc.Managed(&pods.Items[i]) {
				return true, nil
			}
		}
		return false, nil
	}
}

// ToHost is the host form of Endpoints, built from Fields. Every address must be the IP
// of one of this vcluster's own host pods (owns): any other (another tenant's pod, a
// node, anything else) would let the host's proxies and ingress controllers reach it on
// the tenant's behalf (CVE-2021-25740) and is refused.
//
//nolint:staticcheck // users still write Endpoints for selector-less services.
func ToHost(v *corev1.Endpoints, t translate.Translator, owns OwnsIP) (*corev1.Endpoints, error) {
	var refused translate.Refusals
	meta, err := t.ObjectMeta(v, Kind)
	if err := refused.AddErr(err); err != nil {
		return nil, err
	}
	out := make([]corev1.EndpointSubset, len(v.Subsets))
	for i, s := range v.Subsets {
		path := "subsets[" + strconv.Itoa(i) + "]"
		out[i].Ports = ports(s.Ports)
		if out[i].Addresses, err = addresses(path+".addresses", s.Addresses, t, owns, &refused); err != nil {
			return nil, err
		}
		if out[i].NotReadyAddresses, err = addresses(path+".notReadyAddresses", s.NotReadyAddresses, t, owns, &refused); err != nil {
			return nil, err
		}
	}
	return &corev1.Endpoints{ObjectMeta: meta, Subsets: out}, refused.Err()
}

func addresses(path string, in []corev1.EndpointAddress, t translate.Translator, owns OwnsIP, refused *translate.Refusals) ([]corev1.EndpointAddress, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]corev1.EndpointAddress, len(in))
	for i, a := range in {
		out[i] = corev1.EndpointAddress{IP: a.IP, Hostname: a.Hostname}
		if ref := a.TargetRef; ref != nil && ref.Kind == "Pod" {
			out[i].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: t.HostNamespace, Name: t.Name(ref.Name, ref.Namespace)}
		}
		if t.DisableChecks {
			continue
		}
		ok, err := owns(a.IP)
		if err != nil {
			return nil, err
		}
		if !ok {
			refused.Add(path+"["+strconv.Itoa(i)+"].ip", a.IP+" is not the IP of one of this virtual cluster's pods")
		}
	}
	return out, nil
}

func ports(in []corev1.EndpointPort) []corev1.EndpointPort {
	if in == nil {
		return nil
	}
	out := make([]corev1.EndpointPort, len(in))
	for i, p := range in {
		out[i] = corev1.EndpointPort{Name: p.Name, Port: p.Port, Protocol: p.Protocol}
		if p.AppProtocol != nil {
			out[i].AppProtocol = new(*p.AppProtocol)
		}
	}
	return out
}

// SyncToHost copies the subsets, pointing pod target references at host pods.
//
//nolint:staticcheck // users still write Endpoints for selector-less services.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.Endpoints)
	want, err := ToHost(v, sc.Translator, hostOwnsIP(ctx, sc))
	if err != nil {
		return err
	}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	updated := hObj.(*corev1.Endpoints).DeepCopy()
	changed := translate.MergeMeta(&updated.ObjectMeta, want.ObjectMeta)
	if !equality.Semantic.DeepEqual(want.Subsets, updated.Subsets) {
		updated.Subsets, changed = want.Subsets, true
	}
	if !changed {
		return nil
	}
	return sc.UpdateHost(ctx, v, updated)
}
