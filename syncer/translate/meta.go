package translate

import (
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Labels and annotations on every host object the syncer creates (see package syncer).
const (
	LabelManagedBy      = "vcluster.tenantry.dev/managed-by"
	LabelNamespace      = "vcluster.tenantry.dev/namespace"
	AnnotationName      = "vcluster.tenantry.dev/object-name"
	AnnotationNamespace = "vcluster.tenantry.dev/object-namespace"
	AnnotationUID       = "vcluster.tenantry.dev/object-uid"
	AnnotationKind      = "vcluster.tenantry.dev/object-kind"
)

// Translator maps one vcluster's virtual objects into its host namespace.
type Translator struct {
	// VCluster is the vcluster's name; HostNamespace the namespace all host objects live in.
	VCluster, HostNamespace string
}

// Name is the host name of a virtual object in namespace ns.
func (t Translator) Name(name, ns string) string { return HostName(name, ns, t.VCluster) }

// Key is the host key of a virtual object.
func (t Translator) Key(vObj client.Object) client.ObjectKey {
	return client.ObjectKey{Namespace: t.HostNamespace, Name: t.Name(vObj.GetName(), vObj.GetNamespace())}
}

// Labels are the host labels of a virtual object: its own plus the two syncer labels.
func (t Translator) Labels(vObj client.Object) map[string]string {
	out := maps.Clone(vObj.GetLabels())
	if out == nil {
		out = map[string]string{}
	}
	out[LabelManagedBy] = t.VCluster
	out[LabelNamespace] = vObj.GetNamespace()
	return out
}

// Annotations are the host annotations of a virtual object: its own plus its origin.
func (t Translator) Annotations(vObj client.Object, kind string) map[string]string {
	out := maps.Clone(vObj.GetAnnotations())
	if out == nil {
		out = map[string]string{}
	}
	delete(out, "kubectl.kubernetes.io/last-applied-configuration")
	out[AnnotationName] = vObj.GetName()
	out[AnnotationNamespace] = vObj.GetNamespace()
	out[AnnotationUID] = string(vObj.GetUID())
	out[AnnotationKind] = kind
	return out
}

// ObjectMeta is the host metadata of a virtual object of the given kind.
func (t Translator) ObjectMeta(vObj client.Object, kind string) metav1.ObjectMeta {
	key := t.Key(vObj)
	return metav1.ObjectMeta{
		Name: key.Name, Namespace: key.Namespace,
		Labels: t.Labels(vObj), Annotations: t.Annotations(vObj, kind),
	}
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
