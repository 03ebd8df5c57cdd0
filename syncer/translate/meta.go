package translate

import (
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/api/wellknown"
)

// Labels and annotations on every host object the syncer creates (see package wellknown).
const (
	LabelManagedBy               = wellknown.VClusterLabelManagedBy
	LabelNamespace               = wellknown.VClusterLabelNamespace
	AnnotationName               = wellknown.VClusterAnnotationName
	AnnotationNamespace          = wellknown.VClusterAnnotationNamespace
	AnnotationUID                = wellknown.VClusterAnnotationUID
	AnnotationKind               = wellknown.VClusterAnnotationKind
	AnnotationManagedLabels      = wellknown.VClusterAnnotationManagedLabels
	AnnotationManagedAnnotations = wellknown.VClusterAnnotationManagedAnnotations
	LabelControlPlane            = wellknown.VClusterLabelControlPlane
)

// reservedDomain is the platform's label and annotation domain; tenants may not use it
// or any subdomain of it.
const reservedDomain = "tenantry.dev"

// Translator maps one vcluster's virtual objects into its host namespace.
type Translator struct {
	// VCluster is the vcluster's name; HostNamespace the namespace all host objects live in.
	VCluster, HostNamespace string
	// DisableChecks is for tests of host-side guards only (see syncer.Config): every kind
	// copies its virtual object raw, translating only names and references.
	DisableChecks bool
}

// Name is the host name of a virtual object in namespace ns.
func (t Translator) Name(name, ns string) string { return wellknown.HostName(name, ns, t.VCluster) }

// Key is the host key of a virtual object.
func (t Translator) Key(vObj client.Object) client.ObjectKey {
	return client.ObjectKey{Namespace: t.HostNamespace, Name: t.Name(vObj.GetName(), vObj.GetNamespace())}
}

// Domain is the DNS prefix of a label or annotation key ("" for "app", "k8s.io" for
// "k8s.io/x").
func Domain(key string) string {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i]
	}
	return ""
}

// InDomain reports whether key's prefix is domain or a subdomain of it.
func InDomain(key, domain string) bool {
	d := Domain(key)
	return d == domain || strings.HasSuffix(d, "."+domain)
}

// ReservedKey reports whether a label or annotation key is in the platform's domain.
func ReservedKey(key string) bool { return InDomain(key, reservedDomain) }

// syncerAnnotations are the annotation keys the syncer sets itself.
var syncerAnnotations = []string{AnnotationName, AnnotationNamespace, AnnotationUID, AnnotationKind,
	AnnotationManagedLabels, AnnotationManagedAnnotations}

// extraAnnotations are the domain-qualified annotation keys copied to every kind: hints
// to a monitoring scraper to scrape the object's own pods, which reach nothing the
// tenant's pods could not reach already. Every other key with a domain is dropped.
var extraAnnotations = map[string]bool{
	"prometheus.io/scrape": true, "prometheus.io/port": true, "prometheus.io/path": true, "prometheus.io/scheme": true,
}

// AnnotationFilter lets a kind decide about annotation keys it knows: keep copies it,
// a non-empty reason refuses the object, neither drops the key. ok false means the kind
// has no opinion and the default allow-list decides.
type AnnotationFilter func(key, value string) (keep bool, reason string, ok bool)

// AllowedAnnotation is the default annotation allow-list: keys without a domain, plus a
// short explicit list. Keys in kubernetes.io, k8s.io, tenantry.dev, CNI, mesh and
// ingress-controller domains are never copied.
func AllowedAnnotation(key string) bool {
	return (Domain(key) == "" && key != "") || extraAnnotations[key]
}

// ObjectMeta is the host metadata of a virtual object of the given kind with the
// default annotation allow-list; it refuses labels in the reserved domain.
func (t Translator) ObjectMeta(vObj client.Object, kind string) (metav1.ObjectMeta, error) {
	return t.ObjectMetaWith(vObj, kind, nil)
}

// ObjectMetaWith is ObjectMeta with a kind's own annotation filter consulted first.
func (t Translator) ObjectMetaWith(vObj client.Object, kind string, filter AnnotationFilter) (metav1.ObjectMeta, error) {
	key := t.Key(vObj)
	var refused Refusals
	meta := metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace,
		Labels: t.labels(vObj, &refused), Annotations: t.annotations(vObj, kind, filter, &refused)}
	return meta, refused.Err()
}

// labels are the host labels of a virtual object: its own (refusing reserved keys) plus
// the two syncer labels.
func (t Translator) labels(vObj client.Object, refused *Refusals) map[string]string {
	in := vObj.GetLabels()
	out := make(map[string]string, len(in)+2)
	for k, v := range in {
		if ReservedKey(k) && !t.DisableChecks {
			refused.Add(`metadata.labels["`+k+`"]`, "the "+reservedDomain+" domain is reserved for the platform")
			continue
		}
		out[k] = v
	}
	out[LabelManagedBy] = t.VCluster
	out[LabelNamespace] = vObj.GetNamespace()
	return out
}

// annotations are the host annotations of a virtual object: the allowed ones of its own,
// its origin, and the lists of tenant keys the syncer manages.
func (t Translator) annotations(vObj client.Object, kind string, filter AnnotationFilter, refused *Refusals) map[string]string {
	in := vObj.GetAnnotations()
	out := make(map[string]string, len(in)+len(syncerAnnotations))
	for k, v := range in {
		if t.DisableChecks {
			if k != "kubectl.kubernetes.io/last-applied-configuration" {
				out[k] = v
			}
			continue
		}
		if t.allowAnnotation(k, v, filter, refused) {
			out[k] = v
		}
	}
	labels, annotations := managedKeys(vObj.GetLabels()), managedKeys(out)
	out[AnnotationName] = vObj.GetName()
	out[AnnotationNamespace] = vObj.GetNamespace()
	out[AnnotationUID] = string(vObj.GetUID())
	out[AnnotationKind] = kind
	out[AnnotationManagedLabels], out[AnnotationManagedAnnotations] = labels, annotations
	return out
}

func (t Translator) allowAnnotation(k, v string, filter AnnotationFilter, refused *Refusals) bool {
	if ReservedKey(k) {
		return false
	}
	if filter != nil {
		if keep, reason, ok := filter(k, v); ok {
			if reason != "" {
				refused.Add(`metadata.annotations["`+k+`"]`, reason)
			}
			return keep && reason == ""
		}
	}
	return AllowedAnnotation(k)
}

// managedKeys is the sorted, comma-separated list of m's keys outside the reserved domain.
func managedKeys(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !ReservedKey(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// MergeMeta brings host's labels and annotations in line with want, the translation of
// the virtual object, touching only keys the syncer owns: its own, the tenant keys it
// listed on host last time and the ones it lists now. It reports whether host changed.
func MergeMeta(host *metav1.ObjectMeta, want metav1.ObjectMeta) bool {
	labels := merge(host.Labels, want.Labels, host.Annotations[AnnotationManagedLabels], LabelManagedBy, LabelNamespace)
	annotations := merge(host.Annotations, want.Annotations, host.Annotations[AnnotationManagedAnnotations], syncerAnnotations...)
	if maps.Equal(labels, host.Labels) && maps.Equal(annotations, host.Annotations) {
		return false
	}
	host.Labels, host.Annotations = labels, annotations
	return true
}

// merge returns have without the keys it owned (listed, plus own), with want on top.
func merge(have, want map[string]string, listed string, own ...string) map[string]string {
	out := maps.Clone(have)
	if out == nil {
		out = make(map[string]string, len(want))
	}
	for k := range strings.SplitSeq(listed, ",") {
		delete(out, k)
	}
	for _, k := range own {
		delete(out, k)
	}
	maps.Copy(out, want)
	return out
}

// Managed reports whether a host object was created by this vcluster's syncer.
func (t Translator) Managed(hObj client.Object) bool {
	return hObj.GetNamespace() == t.HostNamespace && hObj.GetLabels()[LabelManagedBy] == t.VCluster
}

// Origin is the virtual key a managed host object came from; ok is false for others.
func (t Translator) Origin(hObj client.Object) (key client.ObjectKey, ok bool) {
	if !t.Managed(hObj) {
		return client.ObjectKey{}, false
	}
	a := hObj.GetAnnotations()
	if a[AnnotationName] == "" {
		return client.ObjectKey{}, false
	}
	return client.ObjectKey{Namespace: a[AnnotationNamespace], Name: a[AnnotationName]}, true
}

// Selector is the host form of a virtual label selector map: the same keys plus the two
// syncer labels, so it only matches this vcluster's objects of that virtual namespace.
func (t Translator) Selector(sel map[string]string, vns string) map[string]string {
	if sel == nil {
		return nil
	}
	out := maps.Clone(sel)
	out[LabelManagedBy] = t.VCluster
	out[LabelNamespace] = vns
	return out
}

// LabelSelector is the host form of a metav1.LabelSelector in virtual namespace vns.
func (t Translator) LabelSelector(sel *metav1.LabelSelector, vns string) *metav1.LabelSelector {
	if sel == nil {
		return nil
	}
	out := sel.DeepCopy()
	if out.MatchLabels == nil {
		out.MatchLabels = map[string]string{}
	}
	out.MatchLabels[LabelManagedBy] = t.VCluster
	out.MatchLabels[LabelNamespace] = vns
	return out
}
