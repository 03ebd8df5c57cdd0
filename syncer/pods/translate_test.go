package pods

import (
	"bytes"
	"os"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/translate"
)

var testOptions = Options{
	Translator:  translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"},
	Pods:        v1alpha1.PodPolicy{NodeSelector: map[string]string{"pool": "tenants"}, Tolerations: []corev1.Toleration{{Key: "tenants", Operator: corev1.TolerationOpExists}}},
	ServiceHost: "10.96.0.50", ServicePort: 443, DNSServer: "10.96.0.51",
}

// TestToHostGolden rewrites testdata/pod.yaml and compares with testdata/pod.golden.yaml.
// Set UPDATE_GOLDEN=1 to rewrite the golden file.
func TestToHostGolden(t *testing.T) {
	var vPod corev1.Pod
	if err := yaml.Unmarshal(readFile(t, "testdata/pod.yaml"), &vPod); err != nil {
		t.Fatal(err)
	}
	before := vPod.DeepCopy()
	hPod, err := ToHost(&vPod, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	got, err := yaml.Marshal(hPod)
	if err != nil {
		t.Fatal(err)
	}
	if vPod.Spec.Containers[0].Env[0].ValueFrom.FieldRef.FieldPath != before.Spec.Containers[0].Env[0].ValueFrom.FieldRef.FieldPath {
		t.Error("ToHost modified the virtual pod")
	}
	path := "testdata/pod.golden.yaml"
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := readFile(t, path); !bytes.Equal(got, want) {
		t.Errorf("%s differs (UPDATE_GOLDEN=1 rewrites it):\ngot:\n%s", path, got)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestToHostRewrites(t *testing.T) {
	base := func() *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u1"},
			Spec: corev1.PodSpec{NodeName: "n1", ServiceAccountName: "builder", Containers: []corev1.Container{{Name: "c",
				Env: []corev1.EnvVar{{Name: "KUBERNETES_SERVICE_HOST", Value: "10.96.0.1"}}}}}}
	}
	tests := []struct {
		name  string
		edit  func(*corev1.Pod)
		check func(t *testing.T, h *corev1.Pod)
	}{
		{name: "scheduling and identity dropped", check: func(t *testing.T, h *corev1.Pod) {
			if h.Spec.NodeName != "" || h.Spec.ServiceAccountName != "" || *h.Spec.AutomountServiceAccountToken || *h.Spec.EnableServiceLinks {
				t.Errorf("spec %+v", h.Spec)
			}
		}},
		{name: "service env replaced, not duplicated", check: func(t *testing.T, h *corev1.Pod) {
			want := []corev1.EnvVar{{Name: "KUBERNETES_SERVICE_HOST", Value: "10.96.0.50"}, {Name: "KUBERNETES_SERVICE_PORT", Value: "443"}}
			if !slices.Equal(h.Spec.Containers[0].Env, want) {
				t.Errorf("env %v", h.Spec.Containers[0].Env)
			}
		}},
		{name: "own DNS kept", edit: func(p *corev1.Pod) {
			p.Spec.DNSPolicy, p.Spec.DNSConfig = corev1.DNSNone, &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}}
		}, check: func(t *testing.T, h *corev1.Pod) {
			if h.Spec.DNSConfig.Nameservers[0] != "1.1.1.1" {
				t.Errorf("dns %+v", h.Spec.DNSConfig)
			}
		}},
		{name: "tenant node selector wins", edit: func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{"pool": "gpu", "zone": "a"}
		}, check: func(t *testing.T, h *corev1.Pod) {
			if h.Spec.NodeSelector["pool"] != "tenants" || h.Spec.NodeSelector["zone"] != "a" {
				t.Errorf("nodeSelector %v", h.Spec.NodeSelector)
			}
		}},
		{name: "fields outside the allow-list are not copied", edit: func(p *corev1.Pod) {
			p.Spec.SchedulerName, p.Spec.Overhead = "evil", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/v", BindMountOptions: []string{"rbind"}}}
		}, check: func(t *testing.T, h *corev1.Pod) {
			if h.Spec.SchedulerName != "" || h.Spec.Overhead != nil || h.Spec.Containers[0].VolumeMounts[0].BindMountOptions != nil {
				t.Errorf("spec %+v", h.Spec)
			}
		}},
		{name: "affinity narrowed to this vcluster", edit: func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
				{TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}}}
		}, check: func(t *testing.T, h *corev1.Pod) {
			sel := h.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector
			if sel.MatchLabels[translate.LabelManagedBy] != "team-a" || sel.MatchLabels[translate.LabelNamespace] != "shop" {
				t.Errorf("selector %v", sel)
			}
		}},
		{name: "csi secret reference translated", edit: func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "c", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{Driver: "d",
				NodePublishSecretRef: &corev1.LocalObjectReference{Name: "vc-team-a-kubeconfig"}}}}}
		}, check: func(t *testing.T, h *corev1.Pod) {
			if got := h.Spec.Volumes[0].CSI.NodePublishSecretRef.Name; got != "vc-team-a-kubeconfig-x-shop-x-team-a" {
				t.Errorf("secret ref %q", got)
			}
		}},
		{name: "priority left to the host", edit: func(p *corev1.Pod) {
			p.Spec.PriorityClassName, p.Spec.Priority = "high", new(int32(1000))
		}, check: func(t *testing.T, h *corev1.Pod) {
			if h.Spec.PriorityClassName != "" || h.Spec.Priority != nil {
				t.Errorf("priority %q %v", h.Spec.PriorityClassName, h.Spec.Priority)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := base()
			if tt.edit != nil {
				tt.edit(v)
			}
			h, err := ToHost(v, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, h)
		})
	}
}

func TestRefs(t *testing.T) {
	var vPod corev1.Pod
	if err := yaml.Unmarshal(readFile(t, "testdata/pod.yaml"), &vPod); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind RefKind
		want []string
	}{
		{ConfigMapRef, []string{"settings", "projected-cm", "envfrom-cm", "env-cm"}},
		{SecretRef, []string{"tls", "projected-secret", "registry", "env-secret"}},
		{PVCRef, []string{"data"}},
	}
	for _, tt := range tests {
		if got := Refs(&vPod, tt.kind); !slices.Equal(got, tt.want) {
			t.Errorf("Refs(%d) = %v, want %v", tt.kind, got, tt.want)
		}
	}
}

// BenchmarkToHost translates the golden pod: the syncer's per-pod cost apart from API calls.
func BenchmarkToHost(b *testing.B) {
	var vPod corev1.Pod
	data, err := os.ReadFile("testdata/pod.yaml")
	if err != nil {
		b.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &vPod); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ToHost(&vPod, testOptions); err != nil {
			b.Fatal(err)
		}
	}
}
