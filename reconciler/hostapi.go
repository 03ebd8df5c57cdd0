package reconciler

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/reconciler/render"
)

// hostFacts is what the agent learned of the host: where its API server answers and its
// service CIDR. They are read at the start of a pass, before any tenant is planned.
type hostFacts struct {
	mu                  sync.Mutex
	api                 render.HostAPI
	serviceCIDR         string // the configured one until resolveServiceCIDR
	serviceCIDRResolved bool
}

// refresh reads where the host API server answers, for the tenants' network isolation; on
// error it keeps what it knew (at first: unknown, which allows ports 443 and 6443 on any
// address).
func (h *hostFacts) refresh(ctx context.Context, c client.Client) {
	api, err := readHostAPI(ctx, c)
	if err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("reading the host API server's endpoints", "error", err.Error())
		return
	}
	h.mu.Lock()
	h.api = api
	h.mu.Unlock()
}

// snapshot returns the host API server's endpoints and the service CIDR.
func (h *hostFacts) snapshot() (render.HostAPI, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.api, h.serviceCIDR
}

// readHostAPI reads the default/kubernetes Service and its EndpointSlices.
func readHostAPI(ctx context.Context, c client.Client) (render.HostAPI, error) {
	var svc corev1.Service
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "kubernetes"}, &svc); err != nil {
		return render.HostAPI{}, fmt.Errorf("reading the kubernetes Service: %w", err)
	}
	var list discoveryv1.EndpointSliceList
	if err := c.List(ctx, &list, client.InNamespace("default"), client.MatchingLabels{discoveryv1.LabelServiceName: "kubernetes"}); err != nil {
		return render.HostAPI{}, fmt.Errorf("listing the kubernetes EndpointSlices: %w", err)
	}
	api := render.HostAPI{Endpoints: endpointAddrs(list.Items)}
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
		api.ServiceIP = ip
	}
	if len(api.Endpoints) == 0 {
		return render.HostAPI{}, fmt.Errorf("the kubernetes Service has no endpoints")
	}
	return api, nil
}

// endpointAddrs lists every address:port of the slices, sorted, without duplicates.
func endpointAddrs(list []discoveryv1.EndpointSlice) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range list {
		for _, ep := range s.Endpoints {
			for _, addr := range ep.Addresses {
				ip, err := netip.ParseAddr(addr)
				if err != nil {
					continue
				}
				for _, p := range s.Ports {
					if p.Port != nil {
						out = append(out, netip.AddrPortFrom(ip, uint16(*p.Port)))
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out)
}
