package standin

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestReportReady(t *testing.T) {
	cs := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "u1"}})
	k := &Kubelet{Client: cs, Node: "n1"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := k.ReportReady(ctx, 20*time.Millisecond, func(err error) { t.Error(err) }); err != nil {
		t.Fatal(err)
	}
	n, err := cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Status.Conditions) != 1 || n.Status.Conditions[0].Type != corev1.NodeReady || n.Status.Conditions[0].Status != corev1.ConditionTrue {
		t.Errorf("node conditions %+v, want Ready", n.Status.Conditions)
	}
	if n.Status.Allocatable.Pods().Value() < 1000 {
		t.Errorf("allocatable pods %s, want room for a load", n.Status.Allocatable.Pods())
	}
	first := leaseRenewed(t, cs)
	time.Sleep(100 * time.Millisecond)
	if again := leaseRenewed(t, cs); !again.After(first) {
		t.Errorf("lease renewed at %s then %s: not renewed", first, again)
	}
}

func leaseRenewed(t *testing.T, cs *fake.Clientset) time.Time {
	t.Helper()
	l, err := cs.CoordinationV1().Leases(nodeLeaseNamespace).Get(context.Background(), "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *l.Spec.HolderIdentity != "n1" || len(l.OwnerReferences) != 1 || l.OwnerReferences[0].UID != "u1" {
		t.Errorf("lease %+v, want held by n1 and owned by its Node", l)
	}
	return l.Spec.RenewTime.Time
}
