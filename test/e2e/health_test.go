package e2e

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/test/framework"
)

// volumeTenantYAML is a tenant whose control plane keeps its data on a 1Gi volume of the
// given StorageClass ("" for the host's default).
func volumeTenantYAML(name, class string) string {
	return framework.TenantYAML(name, framework.Persistence("1Gi"), framework.StorageClass(class),
		framework.CPU("8"), framework.DefaultRequest("cpu", "50m"))
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
		res := g.Sync()
		if !res.Failed() {
			t.Fatalf("pass %d: the tenant did not fail: %+v", pass, res)
		}
		c := framework.Condition(framework.RequireTenant(t, g.Agent.Client(), name), v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonStorageClassNotFound || !strings.Contains(c.Message, `"fast-ssd"`) {
			t.Fatalf("pass %d: Ready condition %+v, want False, %s, naming the class", pass, c, v1alpha1.ReasonStorageClassNotFound)
		}
		if _, err := host.Clientset(t).AppsV1().StatefulSets(ns).Get(g.Ctx, "vc-"+name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("pass %d: the control plane StatefulSet was applied (err %v)", pass, err)
		}
	}
	g.commit(name, volumeTenantYAML(name, ""))
	g.SyncOK()
	tn := readyTenant(t, g.Agent, name)
	if tn.Status.ControlPlane == nil || !tn.Status.ControlPlane.Ready {
		t.Fatalf("after the fix: status.controlPlane %+v", tn.Status.ControlPlane)
	}
}
