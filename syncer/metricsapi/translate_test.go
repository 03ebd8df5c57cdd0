package metricsapi

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/tenantry/tenantry/syncer/translate"
)

const vc = "team-a"

func virtualPod(name, ns string) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: k8stypes.UID("uid-" + name),
		Labels: map[string]string{"app": name}}}
}

// hostCopy is the host pod the syncer makes for v, on node.
func hostCopy(v corev1.Pod, node string) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: v.Name + "-x-" + v.Namespace + "-x-" + vc,
		Labels: map[string]string{translate.LabelManagedBy: vc},
		Annotations: map[string]string{translate.AnnotationName: v.Name, translate.AnnotationNamespace: v.Namespace,
			translate.AnnotationUID: string(v.UID)}}, Spec: corev1.PodSpec{NodeName: node}}
}

func hostMetrics(name, cpu, mem string) metricsv1beta1.PodMetrics {
	return metricsv1beta1.PodMetrics{ObjectMeta: metav1.ObjectMeta{Name: name}, Timestamp: metav1.NewTime(time.Unix(100, 0)),
		Window: metav1.Duration{Duration: 15 * time.Second}, Containers: []metricsv1beta1.ContainerMetrics{{Name: "main",
			Usage: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}
}

func TestPodMetricsOnlyFromTheSyncersOwnCopies(t *testing.T) {
	busy := virtualPod("busy", "default")
	owned := hostCopy(busy, "node-1")
	tests := []struct {
		name string
		host func(corev1.Pod) corev1.Pod
		want bool
	}{
		{"the syncer's copy", func(p corev1.Pod) corev1.Pod { return p }, true},
		{"no managed-by label (a host pod of that name)", func(p corev1.Pod) corev1.Pod { delete(p.Labels, translate.LabelManagedBy); return p }, false},
		{"another vcluster's label", func(p corev1.Pod) corev1.Pod { p.Labels[translate.LabelManagedBy] = "team-b"; return p }, false},
		{"names another virtual pod", func(p corev1.Pod) corev1.Pod { p.Annotations[translate.AnnotationName] = "other"; return p }, false},
		{"names another namespace", func(p corev1.Pod) corev1.Pod { p.Annotations[translate.AnnotationNamespace] = "prod"; return p }, false},
		{"copy of an older pod of that name", func(p corev1.Pod) corev1.Pod { p.Annotations[translate.AnnotationUID] = "old"; return p }, false},
		{"no annotations", func(p corev1.Pod) corev1.Pod { p.Annotations = nil; return p }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := tt.host(*owned.DeepCopy())
			s := newSnapshot(vc, []corev1.Pod{host}, []metricsv1beta1.PodMetrics{hostMetrics(owned.Name, "250m", "10Mi")})
			got := s.podMetricsList([]corev1.Pod{busy})
			if (len(got.Items) == 1) != tt.want {
				t.Fatalf("got %d items, want reported=%v", len(got.Items), tt.want)
			}
			if !tt.want {
				return
			}
			m := got.Items[0]
			if m.Name != "busy" || m.Namespace != "default" || m.Labels["app"] != "busy" || m.Kind != "PodMetrics" {
				t.Fatalf("metrics not translated to the virtual pod: %+v", m.ObjectMeta)
			}
			if cpu := m.Containers[0].Usage[corev1.ResourceCPU]; cpu.MilliValue() != 250 {
				t.Fatalf("cpu = %s, want 250m", cpu.String())
			}
		})
	}
}

func TestPodMetricsLeaveOutHostPodsWithoutVirtualPod(t *testing.T) {
	busy := virtualPod("busy", "default")
	stranger := hostCopy(virtualPod("stranger", "default"), "node-1")
	s := newSnapshot(vc, []corev1.Pod{hostCopy(busy, "node-1"), stranger},
		[]metricsv1beta1.PodMetrics{hostMetrics(hostCopy(busy, "").Name, "1", "1Mi"), hostMetrics(stranger.Name, "2", "2Mi")})
	got := s.podMetricsList([]corev1.Pod{busy})
	if len(got.Items) != 1 || got.Items[0].Name != "busy" {
		t.Fatalf("got %+v, want only busy", got.Items)
	}
}

func TestNodeMetricsSumTheTenantsPodsPerNode(t *testing.T) {
	a, b, c := virtualPod("a", "default"), virtualPod("b", "prod"), virtualPod("c", "default")
	pods := []corev1.Pod{hostCopy(a, "node-1"), hostCopy(b, "node-1"), hostCopy(c, "node-2")}
	metrics := []metricsv1beta1.PodMetrics{hostMetrics(pods[0].Name, "100m", "10Mi"), hostMetrics(pods[1].Name, "150m", "20Mi"),
		hostMetrics(pods[2].Name, "1", "1Mi")}
	nodes := []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, {ObjectMeta: metav1.ObjectMeta{Name: "node-3"}}}
	got := newSnapshot(vc, pods, metrics).nodeMetrics([]corev1.Pod{a, b, c}, nodes)
	if len(got.Items) != 1 || got.Items[0].Name != "node-1" {
		t.Fatalf("got %+v, want node-1 only (node-2 is not a virtual node, node-3 runs none of the tenant's pods)", got.Items)
	}
	cpu, mem := got.Items[0].Usage[corev1.ResourceCPU], got.Items[0].Usage[corev1.ResourceMemory]
	if cpu.MilliValue() != 250 || mem.Value() != 30<<20 {
		t.Fatalf("usage = %s cpu, %s memory; want 250m, 30Mi", cpu.String(), mem.String())
	}
}
