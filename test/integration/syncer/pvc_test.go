package syncer_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/test/framework"
)

// TestPersistentVolumeClaims: a virtual claim reaches the host under its host name, the
// pod using it mounts the host claim, and the host's binding status comes back.
func TestPersistentVolumeClaims(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-pvc", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, err := tn.v.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := simplePod("db")
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hostName := tn.hostName("data", ns)
	var h *corev1.PersistentVolumeClaim
	framework.Eventually(t, 30*time.Second, "the host claim", func() (bool, error) {
		var err error
		h, err = tn.h.CoreV1().PersistentVolumeClaims(tn.hostNS).Get(ctx, hostName, metav1.GetOptions{})
		return err == nil, err
	})
	if got := waitHostPod(t, tn, "db", ns).Spec.Volumes[0].PersistentVolumeClaim.ClaimName; got != hostName {
		t.Errorf("host pod mounts claim %q, want %q", got, hostName)
	}
	// The host's PV controller binds the host claim to a volume made for it.
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-" + tn.hostNS}, Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		ClaimRef:               &corev1.ObjectReference{Namespace: tn.hostNS, Name: hostName, UID: h.UID},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/pv"}}}}
	if _, err := tn.h.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tn.h.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}) })
	framework.Eventually(t, 30*time.Second, "the virtual claim to be Bound", func() (bool, error) {
		v, err := tn.v.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
		return err == nil && v.Status.Phase == corev1.ClaimBound, err
	})
}
