package syncer_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/test/cluster"
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
	vp, err := tn.v.CoreV1().Pods(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vp.Spec.Containers[0].Image = "busybox:1.37"
	if _, err := tn.v.CoreV1().Pods(ns).Update(ctx, vp, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cluster.Eventually(t, 30*time.Second, "the host pod's image to follow", func() (bool, error) {
		hp, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, tn.hostName("web", ns), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return hp.Spec.Containers[0].Image == "busybox:1.37", nil
	})
}
