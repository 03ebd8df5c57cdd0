package syncer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/test/framework"
)

// TestPodImageChangeReachesHost: changing a virtual pod's image (which the API allows on a
// running pod) changes the host pod's image, as a kubelet would restart the container.
func TestPodImageChangeReachesHost(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-img", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, simplePod("web"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitHostPod(t, tn, "web", ns)
	// The syncer writes the virtual pod too (binding, status): retry on conflicts.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		vp, err := tn.v.CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		vp.Spec.Containers[0].Image = "busybox:1.37"
		_, err = tn.v.CoreV1().Pods(ns).Update(ctx, vp, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the host pod's image to follow", func() (bool, error) {
		hp, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, tn.hostName("web", ns), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return hp.Spec.Containers[0].Image == "busybox:1.37", nil
	})
}

// TestNodePortComesBackFromHost: a NodePort Service gets its node port from the host, and
// the virtual Service shows that port (the one that answers on the host's nodes).
func TestNodePortComesBackFromHost(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-np", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort,
		Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}
	if _, err := tn.v.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "the virtual Service to show the host's node port", func() (bool, error) {
		h, err := tn.h.CoreV1().Services(tn.hostNS).Get(ctx, tn.hostName("web", ns), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		v, err := tn.v.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		hp, vp := h.Spec.Ports[0].NodePort, v.Spec.Ports[0].NodePort
		return hp != 0 && hp == vp, fmt.Errorf("host node port %d, virtual %d", hp, vp)
	})
}
