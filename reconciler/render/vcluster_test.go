package render

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestCompareMinor(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		sign int
	}{
		{"v1.36.3", "v1.37.2", -1},
		{"v1.37.0", "v1.37.2", 0},
		{"v1.100.0", "v1.99.9", 1},
		{"v2.0.0", "v1.99.0", 1},
		{"garbage", "v1.37.2", 0},
	} {
		got := CompareMinor(tc.a, tc.b)
		if (got < 0 && tc.sign >= 0) || (got > 0 && tc.sign <= 0) || (got == 0 && tc.sign != 0) {
			t.Errorf("CompareMinor(%s, %s) = %d, want sign %d", tc.a, tc.b, got, tc.sign)
		}
	}
}

func TestVClusterValues(t *testing.T) {
	zero := resource.MustParse("0")
	tn := &v1alpha1.Tenant{}
	tn.Name = "team-q"
	tn.Spec.KubernetesVersion = "v1.36"
	tn.Spec.Persistence = v1alpha1.Persistence{Size: &zero, StorageClassName: "fast"}
	v, err := VClusterValues(tn, VClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	image := v["image"].(map[string]any)
	p := v["persistence"].(map[string]any)
	switch {
	case v["kubernetesVersion"] != "v1.36.3" || image["tag"] != "v1.36.3" || image["repository"] != DefaultVClusterImage:
		t.Errorf("version and image: %v, %v", v["kubernetesVersion"], image)
	case p["enabled"] != false || p["storageClassName"] != "fast":
		t.Errorf("persistence %v, want off", p)
	case v["serviceCIDR"] != DefaultServiceCIDR || v["kubeconfigSecret"] != "vc-team-q-kubeconfig":
		t.Errorf("serviceCIDR %v, kubeconfigSecret %v", v["serviceCIDR"], v["kubeconfigSecret"])
	case v["owners"] != nil:
		t.Errorf("owners %v, want none", v["owners"])
	}
	tn.Spec.KubernetesVersion = "1.12"
	if _, err := VClusterValues(tn, VClusterOptions{}); err == nil {
		t.Error("an unsupported version was accepted")
	}
}
