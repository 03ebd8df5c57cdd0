package framework

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/tenantry/tenantry/reconciler/render"
)

// EditQuota changes the pods of a tenant namespace's ResourceQuota by hand, as
// `kubectl edit` would (field manager kubectl-edit): drift for the agent to find.
func EditQuota(t testing.TB, cs kubernetes.Interface, ns, pods string) {
	t.Helper()
	quotas := cs.CoreV1().ResourceQuotas(ns)
	// The quota controller writes the status as usage changes: retry on a conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		q, err := quotas.Get(context.Background(), render.QuotaName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		q.Spec.Hard[corev1.ResourcePods] = resource.MustParse(pods)
		_, err = quotas.Update(context.Background(), q, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
