package pods

import (
	"bytes"
	"os"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
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
	got, err := yaml.Marshal(ToHost(&vPod, testOptions))
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
			tt.check(t, ToHost(v, testOptions))
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
