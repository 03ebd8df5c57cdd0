package pvcs

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/syncer/translate"
)

func TestToHost(t *testing.T) {
	tr := translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}
	tests := []struct {
		name string
		edit func(*corev1.PersistentVolumeClaimSpec)
		want string // "" means allowed
	}{
		{name: "plain", edit: func(*corev1.PersistentVolumeClaimSpec) {}},
		{name: "clone of a claim", edit: func(s *corev1.PersistentVolumeClaimSpec) {
			s.DataSource = &corev1.TypedLocalObjectReference{Kind: Kind, Name: "src"}
		}},
		{name: "volumeName", edit: func(s *corev1.PersistentVolumeClaimSpec) { s.VolumeName = "pv-of-team-b" },
			want: "spec.volumeName is not allowed"},
		{name: "selector", edit: func(s *corev1.PersistentVolumeClaimSpec) { s.Selector = &metav1.LabelSelector{} },
			want: "spec.selector is not allowed"},
		{name: "snapshot source", edit: func(s *corev1.PersistentVolumeClaimSpec) {
			s.DataSourceRef = &corev1.TypedObjectReference{APIGroup: new("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "x"}
		}, want: "spec.dataSourceRef is not allowed"},
		{name: "another namespace's claim", edit: func(s *corev1.PersistentVolumeClaimSpec) {
			s.DataSourceRef = &corev1.TypedObjectReference{Kind: Kind, Name: "x", Namespace: new("tenant-team-b")}
		}, want: "spec.dataSourceRef is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "shop"},
				Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi"),
						"example.com/iops": resource.MustParse("1")}}}}
			tt.edit(&v.Spec)
			h, err := ToHost(v, tr)
			if tt.want != "" {
				if err == nil || !translate.IsRefused(err) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(h.Spec.Resources.Requests) != 1 || h.Spec.VolumeName != "" {
				t.Errorf("spec %+v", h.Spec)
			}
			if ds := h.Spec.DataSource; ds != nil && ds.Name != "src-x-shop-x-team-a" {
				t.Errorf("data source %+v", ds)
			}
		})
	}
}
