package metricsapi

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/syncer/translate"
)

// snapshot is what one request reads from the host: the host pods this vcluster's syncer
// manages and the host's metrics of pods in the tenant's namespace, both by host name.
type snapshot struct {
	vcluster string
	pods     map[string]*corev1.Pod
	metrics  map[string]*metricsv1beta1.PodMetrics
}

func newSnapshot(vcluster string, pods []corev1.Pod, metrics []metricsv1beta1.PodMetrics) *snapshot {
	s := &snapshot{vcluster: vcluster, pods: map[string]*corev1.Pod{}, metrics: map[string]*metricsv1beta1.PodMetrics{}}
	for i := range pods {
		s.pods[pods[i].Name] = &pods[i]
	}
	for i := range metrics {
		s.metrics[metrics[i].Name] = &metrics[i]
	}
	return s
}

// hostCopy is the host pod that is the syncer's copy of the virtual pod v, or nil. Its
// name alone proves nothing (anyone with host rights may create a pod of that name): it
// must carry this vcluster's managed-by label and name the virtual pod, UID included.
func (s *snapshot) hostCopy(v *corev1.Pod) *corev1.Pod {
	h := s.pods[wellknown.HostName(v.Name, v.Namespace, s.vcluster)]
	switch {
	case h == nil, h.Labels[translate.LabelManagedBy] != s.vcluster,
		h.Annotations[translate.AnnotationName] != v.Name,
		h.Annotations[translate.AnnotationNamespace] != v.Namespace,
		h.Annotations[translate.AnnotationUID] != string(v.UID):
		return nil
	}
	return h
}

// podMetrics is the virtual pod's metrics from its host copy's, or nil when the pod has no
// host copy or the host has no metrics for it (yet).
func (s *snapshot) podMetrics(v *corev1.Pod) *metricsv1beta1.PodMetrics {
	h := s.hostCopy(v)
	if h == nil {
		return nil
	}
	m := s.metrics[h.Name]
	if m == nil {
		return nil
	}
	out := &metricsv1beta1.PodMetrics{
		TypeMeta:  podMetricsType,
		Timestamp: m.Timestamp, Window: m.Window,
		Containers: make([]metricsv1beta1.ContainerMetrics, 0, len(m.Containers)),
	}
	out.Name, out.Namespace, out.Labels = v.Name, v.Namespace, v.Labels
	out.CreationTimestamp = m.CreationTimestamp
	for _, c := range m.Containers {
		out.Containers = append(out.Containers, metricsv1beta1.ContainerMetrics{Name: c.Name, Usage: c.Usage.DeepCopy()})
	}
	return out
}

// podMetricsList is the metrics of those virtual pods that have them.
func (s *snapshot) podMetricsList(vpods []corev1.Pod) *metricsv1beta1.PodMetricsList {
	out := &metricsv1beta1.PodMetricsList{TypeMeta: podMetricsListType, Items: []metricsv1beta1.PodMetrics{}}
	for i := range vpods {
		if m := s.podMetrics(&vpods[i]); m != nil {
			out.Items = append(out.Items, *m)
		}
	}
	return out
}

// nodeMetrics is, for each virtual node, the sum of the tenant's own pods' usage on the
// host node of that name: the syncer has no right to the host's node metrics, and a
// tenant must not see its neighbours' usage anyway. A node without such pods is left out.
func (s *snapshot) nodeMetrics(vpods []corev1.Pod, nodes []corev1.Node) *metricsv1beta1.NodeMetricsList {
	sums := map[string]*metricsv1beta1.NodeMetrics{}
	for i := range vpods {
		h, m := s.hostCopy(&vpods[i]), s.podMetrics(&vpods[i])
		if h == nil || m == nil || h.Spec.NodeName == "" {
			continue
		}
		n := sums[h.Spec.NodeName]
		if n == nil {
			n = &metricsv1beta1.NodeMetrics{TypeMeta: nodeMetricsType, Window: m.Window, Usage: corev1.ResourceList{}}
			n.Name = h.Spec.NodeName
			sums[n.Name] = n
		}
		if m.Timestamp.After(n.Timestamp.Time) {
			n.Timestamp = m.Timestamp
		}
		for _, c := range m.Containers {
			add(n.Usage, c.Usage)
		}
	}
	out := &metricsv1beta1.NodeMetricsList{TypeMeta: nodeMetricsListType, Items: []metricsv1beta1.NodeMetrics{}}
	for _, node := range nodes {
		if n := sums[node.Name]; n != nil {
			n.Labels = node.Labels
			out.Items = append(out.Items, *n)
		}
	}
	return out
}

// add adds the cpu and memory of usage to sum.
func add(sum, usage corev1.ResourceList) {
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		q, ok := usage[name]
		if !ok {
			continue
		}
		total := sum[name]
		if total.IsZero() {
			total = resource.Quantity{Format: q.Format}
		}
		total.Add(q)
		sum[name] = total
	}
}
