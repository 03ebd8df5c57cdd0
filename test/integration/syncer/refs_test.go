package syncer_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/test/framework"
)

// TestOnlyReferencedConfigMapsSync: a ConfigMap a pod uses reaches the host, one no pod
// uses does not, and the used one leaves the host with its last pod.
func TestOnlyReferencedConfigMapsSync(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-cm", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	for _, name := range []string{"used", "unused"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": name}}
		if _, err := tn.v.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod := podUsingConfigMap("reader", "used")
	if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the used ConfigMap on the host", func() (bool, error) {
		cm, err := tn.h.CoreV1().ConfigMaps(tn.hostNS).Get(ctx, tn.hostName("used", ns), metav1.GetOptions{})
		return err == nil && cm.Data["k"] == "used", err
	})
	hostPod := waitHostPod(t, tn, "reader", ns)
	if got := hostPod.Spec.Volumes[0].ConfigMap.Name; got != tn.hostName("used", ns) {
		t.Errorf("host pod mounts configmap %q, want %q", got, tn.hostName("used", ns))
	}
	if _, err := tn.h.CoreV1().ConfigMaps(tn.hostNS).Get(ctx, tn.hostName("unused", ns), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the unused ConfigMap reached the host: %v", err)
	}
	if err := tn.v.CoreV1().Pods(ns).Delete(ctx, "reader", metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the ConfigMap to leave the host with its last pod", func() (bool, error) {
		_, err := tn.h.CoreV1().ConfigMaps(tn.hostNS).Get(ctx, tn.hostName("used", ns), metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
}

func podUsingConfigMap(name, cm string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "busybox",
				VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/config"}}}},
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}}},
		},
	}
}

func simplePod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
}

// waitHostPod waits for the host pod of a virtual pod and returns it.
func waitHostPod(t *testing.T, tn *tenant, name, ns string) *corev1.Pod {
	t.Helper()
	var p *corev1.Pod
	framework.Eventually(t, 30*time.Second, "host pod of "+ns+"/"+name, func() (bool, error) {
		var err error
		p, err = tn.h.CoreV1().Pods(tn.hostNS).Get(context.Background(), tn.hostName(name, ns), metav1.GetOptions{})
		return err == nil, err
	})
	return p
}

// TestHostPathNeedsAllowHostPath: a hostPath pod is refused with a SyncError event unless
// the tenant allows hostPath.
func TestHostPathNeedsAllowHostPath(t *testing.T) {
	ctx := context.Background()
	for _, allow := range []bool{false, true} {
		t.Run("allowHostPath="+map[bool]string{false: "false", true: "true"}[allow], func(t *testing.T) {
			tn := newTenant(t, "team-hp", v1alpha1.PodPolicy{AllowHostPath: allow})
			tn.start(t)
			ns := tn.virtual.NewNamespace(t)
			pod := simplePod("host-reader")
			pod.Spec.Volumes = []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}}}
			if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if allow {
				waitHostPod(t, tn, "host-reader", ns)
				return
			}
			waitEvent(t, tn.v, ns, "host-reader", "spec.volumes[0].hostPath is not allowed: the tenant file does not set spec.pods.allowHostPath")
			if _, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, tn.hostName("host-reader", ns), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("refused pod exists on the host: %v", err)
			}
		})
	}
}
