package e2e

import (
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler"
)

// volumeTenantYAML is a tenant whose control plane keeps its data on a 1Gi volume of the
// given StorageClass ("" for the host's default).
func volumeTenantYAML(name, class string) string {
	return fmt.Sprintf(`apiVersion: tenantry.dev/v1alpha1
kind: Tenant
metadata:
  name: %s
spec:
  owners:
  - {kind: User, name: %s-owner}
  persistence: {size: 1Gi, storageClassName: %q}
  quota: {pods: "10", cpu: "8"}
  limits:
    default: {cpu: 500m}
    defaultRequest: {cpu: 50m}
`, name, name, class)
}

// TestControlPlaneThatCannotStartIsNeverReady: a tenant whose control plane's volume names a
// StorageClass the host lacks is not Ready on three passes in a row, with the reason, and
// nothing of its virtual cluster is applied (a StatefulSet with that claim template could
// not be fixed later: its volumeClaimTemplates are immutable); once Git names the host's
// default class, the next pass makes it Ready, control plane running on the node.
func TestControlPlaneThatCannotStartIsNeverReady(t *testing.T) {
	requireNode(t)
	requireImage(t, "tenantry-vcluster-v1.37.2.tar")
	const name, ns = "node-vol", "tenant-node-vol"
	g := newGitAgent(t, "e2e-"+name)
	g.commit(name, volumeTenantYAML(name, "fast-ssd"))
	dumpPodLogsOnFailure(t, ns)
	for pass := range 3 {
		res := g.syncAllowingFailure()
		if !res.Failed() {
			t.Fatalf("pass %d: the tenant did not fail: %+v", pass, res)
		}
		c := readyCondition(t, g.agent, name)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonStorageClassNotFound || !strings.Contains(c.Message, `"fast-ssd"`) {
			t.Fatalf("pass %d: Ready condition %+v, want False, %s, naming the class", pass, c, v1alpha1.ReasonStorageClassNotFound)
		}
		if _, err := host.Clientset(t).AppsV1().StatefulSets(ns).Get(g.ctx, "vc-"+name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("pass %d: the control plane StatefulSet was applied (err %v)", pass, err)
		}
	}
	g.commit(name, volumeTenantYAML(name, ""))
	g.sync()
	tn := readyTenant(t, g.agent, name)
	if tn.Status.ControlPlane == nil || !tn.Status.ControlPlane.Ready {
		t.Fatalf("after the fix: status.controlPlane %+v", tn.Status.ControlPlane)
	}
}

func readyCondition(t *testing.T, a *reconciler.Agent, name string) *metav1.Condition {
	t.Helper()
	return apimeta.FindStatusCondition(findTenant(t, a, name).Status.Conditions, v1alpha1.ConditionReady)
}
