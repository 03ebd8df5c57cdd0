package syncer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/test/framework"
)

// TestTwoVClustersSameNames: two virtual clusters with the same namespace and pod names
// sync into their own host namespaces without collisions; a 60-character pod name gets a
// valid, stable host name.
func TestTwoVClustersSameNames(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("p", 60)
	var tenants []*tenant
	for _, name := range []string{"team-x", "team-y"} {
		tn := newTenant(t, name, v1alpha1.PodPolicy{})
		tn.start(t)
		if err := tn.virtual.WaitForServiceAccount(ctx, "default"); err != nil {
			t.Fatal(err)
		}
		if _, err := tn.v.CoreV1().Pods("default").Create(ctx, simplePod("web"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := tn.v.CoreV1().Pods("default").Create(ctx, simplePod(long), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, tn)
	}
	for _, tn := range tenants {
		web := waitHostPod(t, tn, "web", "default")
		if web.Labels[wellknown.VClusterLabelManagedBy] != tn.name || web.Namespace != tn.hostNS {
			t.Errorf("host pod %s/%s labels %v", web.Namespace, web.Name, web.Labels)
		}
		lp := waitHostPod(t, tn, long, "default")
		if errs := validation.IsDNS1123Label(lp.Name); len(errs) > 0 || lp.Name != wellknown.HostName(long, "default", tn.name) {
			t.Errorf("long host name %q: %v", lp.Name, errs)
		}
		t.Logf("%s: host pods %s and %s", tn.name, web.Name, lp.Name)
	}
	if a, b := tenants[0].hostName("web", "default"), tenants[1].hostName("web", "default"); a == b {
		t.Fatalf("host names collide: %s", a)
	}
}

// TestRestartGarbageCollects: an object deleted while the syncer is down leaves the host
// when it restarts, and a restart creates no duplicates.
func TestRestartGarbageCollects(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, "team-gc", v1alpha1.PodPolicy{})
	tn.start(t)
	ns := tn.virtual.NewNamespace(t)
	for _, name := range []string{"keep", "gone"} {
		if _, err := tn.v.CoreV1().Pods(ns).Create(ctx, simplePod(name), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	keep := waitHostPod(t, tn, "keep", ns)
	waitHostPod(t, tn, "gone", ns)
	tn.stop()
	if err := tn.v.CoreV1().Pods(ns).Delete(ctx, "gone", metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	tn.start(t)
	framework.Eventually(t, 30*time.Second, "the host pod of the deleted virtual pod to go", func() (bool, error) {
		_, err := tn.h.CoreV1().Pods(tn.hostNS).Get(ctx, tn.hostName("gone", ns), metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	t.Logf("garbage collected %s after restart", time.Since(began).Round(time.Millisecond))
	tn.stop()
	// The restart's resync reconciles "keep" again: that is where a duplicate would be made.
	podSyncer := framework.Controller(tn.name + "-" + pods.Kind)
	since := podSyncer.Mark(t)
	tn.start(t)
	podSyncer.WaitSettled(t, since)
	hostPods, err := tn.h.CoreV1().Pods(tn.hostNS).List(ctx, metav1.ListOptions{LabelSelector: wellknown.VClusterLabelManagedBy + "=" + tn.name})
	if err != nil {
		t.Fatal(err)
	}
	if len(hostPods.Items) != 1 || hostPods.Items[0].UID != keep.UID {
		t.Fatalf("after two restarts the host has %d pods (want the original %s only)", len(hostPods.Items), keep.Name)
	}
}
