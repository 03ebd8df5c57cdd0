// Package render turns a Tenant into the host objects that the agent server-side applies.
package render

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/policy/guards"
)

// Labels and annotations that tenantry puts on every object it applies.
const (
	LabelTenant       = wellknown.LabelTenant
	LabelManagedBy    = wellknown.LabelManagedBy
	ManagedByValue    = wellknown.ManagedBy
	AnnotationSource  = "tenantry.dev/source"
	AnnotationCommit  = "tenantry.dev/revision"
	AnnotationOrphan  = "tenantry.dev/orphaned"
	QuotaName         = "tenant-quota"
	LimitRangeName    = "tenant-limits"
	PodSecurityLevel  = "baseline"
	podSecurityPrefix = "pod-security.kubernetes.io/"
)

// Tenant renders the host objects of a tenant: the Namespace first, then by kind and name.
// api is where the host API server answers, for the network isolation to allow.
func Tenant(t *v1alpha1.Tenant, api HostAPI) ([]*unstructured.Unstructured, error) {
	ns := t.HostNamespace()
	typed := []runtime.Object{namespace(t)}
	if len(t.Spec.Quota) > 0 {
		typed = append(typed, quota(ns, t.Spec.Quota))
	}
	if t.Spec.Limits != nil {
		typed = append(typed, limitRange(ns, t.Spec.Limits))
	}
	if t.Spec.Network.Isolation != v1alpha1.IsolationNone {
		for _, np := range networkPolicies(ns, t, api) {
			typed = append(typed, np)
		}
	}
	out := make([]*unstructured.Unstructured, 0, len(typed))
	for _, obj := range typed {
		u, err := toUnstructured(obj)
		if err != nil {
			return nil, fmt.Errorf("rendering tenant %s: %w", t.Name, err)
		}
		out = append(out, u)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].GetKind() != out[j].GetKind() {
			return out[i].GetKind() == "Namespace" || (out[j].GetKind() != "Namespace" && out[i].GetKind() < out[j].GetKind())
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out, nil
}

// Label stamps the owner labels and the source annotations on objects.
func Label(objs []*unstructured.Unstructured, tenant, source, revision string) {
	for _, o := range objs {
		labels := o.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelTenant] = tenant
		labels[LabelManagedBy] = ManagedByValue
		o.SetLabels(labels)
		ann := o.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[AnnotationSource] = source
		ann[AnnotationCommit] = revision
		o.SetAnnotations(ann)
	}
}

func namespace(t *v1alpha1.Tenant) *corev1.Namespace {
	ns := &corev1.Namespace{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: t.HostNamespace(), Labels: map[string]string{
			podSecurityPrefix + "enforce": podSecurityEnforce(t.Spec.Pods),
			podSecurityPrefix + "warn":    "restricted",
			podSecurityPrefix + "audit":   "restricted",
		}},
	}
	if ann := guardParameters(t.Spec); len(ann) > 0 {
		ns.Annotations = ann
	}
	return ns
}

// guardParameters are the Namespace annotations the host guards (policy/guards) read as
// the tenant's parameters: only the allowances that are on, the ingress host patterns and
// the tolerations.
func guardParameters(spec v1alpha1.TenantSpec) map[string]string {
	out := map[string]string{}
	for key, on := range map[string]bool{
		guards.AnnotationAllowHostPath:    spec.Pods.AllowHostPath,
		guards.AnnotationAllowHostNetwork: spec.Pods.AllowHostNetwork,
		guards.AnnotationAllowHostPID:     spec.Pods.AllowHostPID,
		guards.AnnotationAllowPrivileged:  spec.Pods.AllowPrivileged,
	} {
		if on {
			out[key] = "true"
		}
	}
	if len(spec.Sync.IngressHosts) > 0 {
		out[guards.AnnotationIngressHosts] = strings.Join(spec.Sync.IngressHosts, ",")
	}
	if len(spec.Pods.Tolerations) > 0 {
		out[guards.AnnotationTolerations] = guards.EncodeTolerations(spec.Pods.Tolerations)
	}
	return out
}

// podSecurityEnforce is the namespace's enforced Pod Security level: baseline, unless the
// tenant file allows what baseline forbids (host paths, host network or PID, privileged
// containers). Pod Security is all or nothing, so it is then privileged, and the host
// guards (policy/guards) enforce the rest of baseline minus exactly what is allowed.
func podSecurityEnforce(p v1alpha1.PodPolicy) string {
	if p.AllowHostPath || p.AllowHostNetwork || p.AllowHostPID || p.AllowPrivileged {
		return "privileged"
	}
	return PodSecurityLevel
}

func quota(ns string, hard corev1.ResourceList) *corev1.ResourceQuota {
	return &corev1.ResourceQuota{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
		ObjectMeta: metav1.ObjectMeta{Name: QuotaName, Namespace: ns},
		Spec:       corev1.ResourceQuotaSpec{Hard: hard},
	}
}

func limitRange(ns string, l *v1alpha1.Limits) *corev1.LimitRange {
	return &corev1.LimitRange{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "LimitRange"},
		ObjectMeta: metav1.ObjectMeta{Name: LimitRangeName, Namespace: ns},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer, Default: l.Default, DefaultRequest: l.DefaultRequest, Max: l.Max, Min: l.Min,
		}}},
	}
}

// networkPolicies isolate the tenant: everything is denied, then traffic inside the
// namespace, DNS, the Kubernetes API (the syncer needs the host API), the listed
// namespaces, for an exposed tenant its API server's port from anywhere, and for an external
// datastore the control-plane pod's egress are allowed back.
func networkPolicies(ns string, t *v1alpha1.Tenant, api HostAPI) []*networkingv1.NetworkPolicy {
	allowFrom := t.Spec.Network.AllowFromNamespaces
	all := metav1.LabelSelector{}
	both := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	sameNS := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dns := intstr.FromInt32(53)
	out := []*networkingv1.NetworkPolicy{
		netpol(ns, "tenantry-default-deny", networkingv1.NetworkPolicySpec{PodSelector: all, PolicyTypes: both}),
		netpol(ns, "tenantry-allow-same-namespace", networkingv1.NetworkPolicySpec{
			PodSelector: all, PolicyTypes: both,
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: sameNS}},
			Egress:  []networkingv1.NetworkPolicyEgressRule{{To: sameNS}},
		}),
		netpol(ns, "tenantry-allow-dns", networkingv1.NetworkPolicySpec{
			PodSelector: all, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
					"kubernetes.io/metadata.name": "kube-system"}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
			}},
		}),
		netpol(ns, "tenantry-allow-kube-api", networkingv1.NetworkPolicySpec{
			PodSelector: all, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: kubeAPIEgress(api),
		}),
	}
	if exposed(t) {
		out = append(out, apiExposure(ns, t))
	}
	if externalDatastore(t) {
		out = append(out, datastoreEgress(ns, t))
	}
	if len(allowFrom) > 0 {
		out = append(out, netpol(ns, "tenantry-allow-from-namespaces", networkingv1.NetworkPolicySpec{
			PodSelector: all, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: allowFrom,
				}}},
			}}}},
		}))
	}
	return out
}

// exposed reports whether the tenant file exposes the API server outside the host.
func exposed(t *v1alpha1.Tenant) bool {
	return t.Spec.Expose.Type != "" && t.Spec.Expose.Type != "ClusterIP"
}

// apiExposure lets the exposure path in (a load balancer, a node port through kube-proxy,
// an ingress controller in any namespace): from anywhere, but only to the virtual API
// server's port on the control-plane pod, which tenant pods can never be selected as (the
// label is reserved). DNS and the tenant's workloads stay isolated.
func apiExposure(ns string, t *v1alpha1.Tenant) *networkingv1.NetworkPolicy {
	tcp, api := corev1.ProtocolTCP, intstr.FromInt32(wellknown.VClusterAPIPort)
	return netpol(ns, "tenantry-allow-api-exposure", networkingv1.NetworkPolicySpec{
		PodSelector: controlPlanePod(t),
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &api}}}},
	})
}

// externalDatastore reports whether the virtual cluster keeps its state in an external database.
func externalDatastore(t *v1alpha1.Tenant) bool {
	return t.Spec.Datastore != nil && t.Spec.Datastore.Type != "" && t.Spec.Datastore.Type != v1alpha1.DatastoreSQLite
}

// datastoreEgress lets the control-plane pod (our binaries alone; no tenant pod can carry
// its label) reach the external datastore, whose address is in a Secret the agent does not
// read: egress anywhere, for that pod only.
func datastoreEgress(ns string, t *v1alpha1.Tenant) *networkingv1.NetworkPolicy {
	return netpol(ns, "tenantry-allow-datastore", networkingv1.NetworkPolicySpec{
		PodSelector: controlPlanePod(t),
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
		Egress:      []networkingv1.NetworkPolicyEgressRule{{}},
	})
}

// controlPlanePod selects the tenant's control-plane pod alone, by a label no tenant pod
// can carry.
func controlPlanePod(t *v1alpha1.Tenant) metav1.LabelSelector {
	return metav1.LabelSelector{MatchLabels: map[string]string{wellknown.VClusterLabelControlPlane: t.Name}}
}

func netpol(ns, name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       spec,
	}
}

func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u, nil
}
