// Package services syncs services to the host with the same ClusterIP and translated selectors.
package services

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/allowlist"
	"github.com/tenantry/tenantry/syncer/metricsapi"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Kind is the service kind recorded on host objects.
const Kind = "Service"

// Syncer syncs services.
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &corev1.Service{} }

// Wanted skips the virtual API server's own default/kubernetes service and the Service
// the virtual API server finds the syncer's metrics API by (it points at the control
// plane pod, which the host reaches by its own Service).
func (Syncer) Wanted(_ context.Context, _ *synccontext.Context, vObj client.Object) (bool, error) {
	ns, name := vObj.GetNamespace(), vObj.GetName()
	return (ns != "default" || name != "kubernetes") && !metricsapi.OwnService(ns, name), nil
}

// Fields is the allow-list of a host service (see package allowlist). Allowed are what a
// service inside the tenant's namespace needs: ports, the selector (narrowed to this
// vcluster's pods of the service's namespace), the ClusterIP the virtual service already
// has, the type (ClusterIP, NodePort, LoadBalancer: Gatekeeper or quota may still refuse
// the last two), session affinity, address families, traffic policies and hints, and
// source ranges (which only narrow who may connect). Refused are the fields that make
// the host's proxies answer for addresses the tenant does not own: externalIPs,
// ExternalName, loadBalancerIP and loadBalancerClass (which would pick the host's load
// balancer implementation).
var Fields = allowlist.Join(allowlist.Metadata, allowlist.List{
	"spec.ports[].name", "spec.ports[].protocol", "spec.ports[].appProtocol", "spec.ports[].port", "spec.ports[].targetPort",
	"spec.ports[].nodePort", "spec.selector.*", "spec.clusterIP", "spec.clusterIPs[]", "spec.type", "spec.sessionAffinity",
	"spec.sessionAffinityConfig.clientIP.timeoutSeconds", "spec.publishNotReadyAddresses", "spec.ipFamilies[]",
	"spec.ipFamilyPolicy", "spec.internalTrafficPolicy", "spec.externalTrafficPolicy", "spec.trafficDistribution",
	"spec.allocateLoadBalancerNodePorts", "spec.loadBalancerSourceRanges[]", "spec.healthCheckNodePort", "status.loadBalancer",
})

// ToHost is the host form of a virtual service, built from Fields: same ClusterIPs and
// ports, selector narrowed to this vcluster's pods of the service's namespace, node ports
// left to the host. It refuses what would reach beyond the tenant (*translate.RefusedError).
func ToHost(v *corev1.Service, t translate.Translator) (*corev1.Service, error) {
	var refused translate.Refusals
	meta, err := t.ObjectMeta(v, Kind)
	if err := refused.AddErr(err); err != nil {
		return nil, err
	}
	h := &corev1.Service{ObjectMeta: meta}
	if t.DisableChecks {
		h.Spec = *v.Spec.DeepCopy()
	} else {
		h.Spec = spec(&v.Spec, &refused)
	}
	if err := refused.Err(); err != nil {
		return nil, err
	}
	h.Spec.Selector = t.Selector(v.Spec.Selector, v.Namespace)
	h.Spec.HealthCheckNodePort = 0
	for i := range h.Spec.Ports {
		h.Spec.Ports[i].NodePort = 0
	}
	return h, nil
}

func spec(v *corev1.ServiceSpec, refused *translate.Refusals) corev1.ServiceSpec {
	refuseSpec(v, refused)
	s := corev1.ServiceSpec{ClusterIP: v.ClusterIP, ClusterIPs: clone(v.ClusterIPs), Type: v.Type,
		SessionAffinity: v.SessionAffinity, PublishNotReadyAddresses: v.PublishNotReadyAddresses,
		IPFamilies: clone(v.IPFamilies), IPFamilyPolicy: cp(v.IPFamilyPolicy), InternalTrafficPolicy: cp(v.InternalTrafficPolicy),
		ExternalTrafficPolicy: v.ExternalTrafficPolicy, TrafficDistribution: cp(v.TrafficDistribution),
		AllocateLoadBalancerNodePorts: cp(v.AllocateLoadBalancerNodePorts), LoadBalancerSourceRanges: clone(v.LoadBalancerSourceRanges)}
	if c := v.SessionAffinityConfig; c != nil && c.ClientIP != nil {
		s.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: cp(c.ClientIP.TimeoutSeconds)}}
	}
	if v.Ports != nil {
		s.Ports = make([]corev1.ServicePort, len(v.Ports))
		for i, p := range v.Ports {
			s.Ports[i] = corev1.ServicePort{Name: p.Name, Protocol: p.Protocol, AppProtocol: cp(p.AppProtocol), Port: p.Port, TargetPort: p.TargetPort}
		}
	}
	return s
}

func refuseSpec(v *corev1.ServiceSpec, refused *translate.Refusals) {
	switch v.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
	default:
		refused.Add("spec.type", "type "+string(v.Type)+" would make the host resolve or proxy names the tenant does not own")
	}
	if len(v.ExternalIPs) > 0 {
		refused.Add("spec.externalIPs", "the host's proxies would send traffic for these addresses to the tenant (CVE-2020-8554)")
	}
	if v.ExternalName != "" && v.Type != corev1.ServiceTypeExternalName {
		refused.Add("spec.externalName", "ExternalName services are not synced")
	}
	if v.LoadBalancerIP != "" {
		refused.Add("spec.loadBalancerIP", "the host's load balancer addresses are not the tenant's to choose")
	}
	if v.LoadBalancerClass != nil {
		refused.Add("spec.loadBalancerClass", "the host's load balancer implementation is chosen by the platform")
	}
}

func clone[T any](in []T) []T {
	if in == nil {
		return nil
	}
	return append(make([]T, 0, len(in)), in...)
}

func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// SyncToHost creates the host service with the virtual ClusterIP; when the host has
// given that IP away it creates it without one and recreates the virtual service with
// the host's IP.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*corev1.Service)
	want, err := ToHost(v, sc.Translator)
	if err != nil {
		return err
	}
	if hObj == nil {
		return create(ctx, sc, v, want)
	}
	h := hObj.(*corev1.Service)
	if needsNewVirtualIP(v, h) {
		return recreateVirtual(ctx, sc, v, h)
	}
	keepHostAllocations(want, h)
	updated := h.DeepCopy()
	changed := translate.MergeMeta(&updated.ObjectMeta, want.ObjectMeta)
	if !equality.Semantic.DeepEqual(want.Spec, h.Spec) {
		updated.Spec, changed = want.Spec, true
	}
	if !changed {
		return nil
	}
	return sc.UpdateHost(ctx, v, updated)
}

func create(ctx context.Context, sc *synccontext.Context, v, want *corev1.Service) error {
	err := sc.Host.Create(ctx, want)
	if err == nil {
		return nil
	}
	if !ipTaken(err) {
		return sc.CreateHost(ctx, v, want)
	}
	want = want.DeepCopy()
	want.Spec.ClusterIP, want.Spec.ClusterIPs = "", nil
	if err := sc.CreateHost(ctx, v, want); err != nil {
		return err
	}
	return recreateVirtual(ctx, sc, v, want)
}

// ipTaken reports whether the host refused a service because its ClusterIP is in use.
func ipTaken(err error) bool {
	return apierrors.IsInvalid(err) && strings.Contains(err.Error(), "already allocated")
}

func needsNewVirtualIP(v, h *corev1.Service) bool {
	if v.Spec.ClusterIP == corev1.ClusterIPNone || v.Spec.Type == corev1.ServiceTypeExternalName {
		return false
	}
	return h.Spec.ClusterIP != "" && v.Spec.ClusterIP != h.Spec.ClusterIP
}

// keepHostAllocations copies what the host allocated (ClusterIPs, node ports) into want.
func keepHostAllocations(want, h *corev1.Service) {
	want.Spec.ClusterIP, want.Spec.ClusterIPs = h.Spec.ClusterIP, h.Spec.ClusterIPs
	want.Spec.HealthCheckNodePort = h.Spec.HealthCheckNodePort
	for i := range want.Spec.Ports {
		for _, hp := range h.Spec.Ports {
			if hp.Port == want.Spec.Ports[i].Port && hp.Protocol == want.Spec.Ports[i].Protocol {
				want.Spec.Ports[i].NodePort = hp.NodePort
			}
		}
	}
}

// recreateVirtual replaces the virtual service by one with the host's ClusterIP(s):
// a service's ClusterIP cannot change in place.
func recreateVirtual(ctx context.Context, sc *synccontext.Context, v, h *corev1.Service) error {
	if h.Spec.ClusterIP == "" {
		return fmt.Errorf("host service %s has no ClusterIP yet", h.Name)
	}
	fresh := v.DeepCopy()
	fresh.ObjectMeta = metav1.ObjectMeta{Name: v.Name, Namespace: v.Namespace, Labels: v.Labels,
		Annotations: v.Annotations, OwnerReferences: v.OwnerReferences, Finalizers: v.Finalizers}
	fresh.Spec.ClusterIP, fresh.Spec.ClusterIPs = h.Spec.ClusterIP, h.Spec.ClusterIPs
	fresh.Status = corev1.ServiceStatus{}
	uid := v.UID
	if err := sc.Virtual.Delete(ctx, v, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting virtual service to change its ClusterIP: %w", err)
	}
	if err := sc.Virtual.Create(ctx, fresh); err != nil {
		return fmt.Errorf("recreating virtual service with the host ClusterIP %s: %w", h.Spec.ClusterIP, err)
	}
	return nil
}

// SyncFromHost copies the host's load-balancer status and the node ports the host
// allocated to the virtual service, so both sides show the ports that answer.
func (Syncer) SyncFromHost(ctx context.Context, sc *synccontext.Context, hObj, vObj client.Object) error {
	h, v := hObj.(*corev1.Service), vObj.(*corev1.Service)
	if updated := WithHostNodePorts(v, h); updated != nil {
		if err := sc.Virtual.Update(ctx, updated); err != nil {
			return fmt.Errorf("copying the host's node ports to the virtual service: %w", err)
		}
		return nil // the update comes back as an event; the status follows then
	}
	if equality.Semantic.DeepEqual(h.Status.LoadBalancer, v.Status.LoadBalancer) {
		return nil
	}
	updated := v.DeepCopy()
	updated.Status.LoadBalancer = h.Status.LoadBalancer
	if err := sc.Virtual.Status().Update(ctx, updated); err != nil {
		return fmt.Errorf("updating virtual service status: %w", err)
	}
	return nil
}

// WithHostNodePorts returns the virtual service with the node ports of the host's
// matching ports (same port and protocol), or nil when they already agree or the host has
// none.
func WithHostNodePorts(v, h *corev1.Service) *corev1.Service {
	var updated *corev1.Service
	for i, vp := range v.Spec.Ports {
		for _, hp := range h.Spec.Ports {
			if hp.Port != vp.Port || hp.Protocol != vp.Protocol || hp.NodePort == 0 || hp.NodePort == vp.NodePort {
				continue
			}
			if updated == nil {
				updated = v.DeepCopy()
			}
			updated.Spec.Ports[i].NodePort = hp.NodePort
		}
	}
	return updated
}
