package status

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// Keys of the agent's record.
const (
	RecordKeyRevision = "revision"
	RecordKeyTime     = "time"
)

// AgentRecordName is the name of the ConfigMap, in the agent's namespace, where an agent
// instance records the revision of its last completed pass. The repo revision is written
// there once per commit, so a commit that changes one tenant writes one Tenant, not all.
func AgentRecordName(instance string) string { return instance + "-revision" }

// AgentRecord is the agent's record at revision rev, to apply.
func AgentRecord(namespace, instance, rev string) *unstructured.Unstructured {
	cm := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{
		RecordKeyRevision: rev, RecordKeyTime: time.Now().UTC().Format(time.RFC3339)}}}
	cm.SetAPIVersion("v1")
	cm.SetKind("ConfigMap")
	cm.SetNamespace(namespace)
	cm.SetName(AgentRecordName(instance))
	return cm
}

// AgentRevision reads the revision of the agent instance's last completed pass; "" when
// it has recorded none.
func AgentRevision(ctx context.Context, c client.Reader, namespace, instance string) (string, error) {
	cm := &corev1.ConfigMap{}
	err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: AgentRecordName(instance)}, cm)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the agent's record %s/%s: %w", namespace, AgentRecordName(instance), err)
	}
	return cm.Data[RecordKeyRevision], nil
}

// AppliedRevision is the newest revision a host Tenant is known to have applied. A Tenant
// is written only when its own state changes, so its lastAppliedRevision is the revision
// of that change; a Tenant still Ready from an applied revision has also applied every
// later pass the agent completed (agentRev), or its status would say otherwise.
func AppliedRevision(st v1alpha1.TenantStatus, agentRev string) string {
	ready := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	if agentRev != "" && st.LastAppliedRevision != "" && ready != nil &&
		ready.Status == metav1.ConditionTrue && ready.Reason == v1alpha1.ReasonSucceeded {
		return agentRev
	}
	return st.LastAppliedRevision
}

// DefaultAgentNamespace is where the tenantry chart installs the agent, and so where
// readers look for its record unless told otherwise.
const DefaultAgentNamespace = "tenantry-system"

// AppliedRevisions is AppliedRevision of every tenant, by name, each read against the
// record of the agent instance that manages it (its tenantry.dev/agent label) in the
// agent namespace ns. A record that is absent or unreadable leaves the Tenants' own.
func AppliedRevisions(ctx context.Context, c client.Reader, ns string, tenants []v1alpha1.Tenant) map[string]string {
	agentRevs := map[string]string{}
	out := make(map[string]string, len(tenants))
	for _, t := range tenants {
		instance := t.Labels[render.LabelAgent]
		rev, ok := agentRevs[instance]
		if !ok && instance != "" {
			rev, _ = AgentRevision(ctx, c, ns, instance)
			agentRevs[instance] = rev
		}
		out[t.Name] = AppliedRevision(t.Status, rev)
	}
	return out
}
