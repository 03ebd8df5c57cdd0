package apply

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/charts"
	"github.com/tenantry/tenantry/reconciler/render"
)

// AgentBindingName is the RoleBinding that grants the agent charts.AgentTenantRole in a
// tenant namespace: its rights there, which it holds nowhere else.
const AgentBindingName = "tenantry-agent"

// accessWait bounds how long the agent waits for a new RoleBinding to take effect (the
// API server's RBAC cache follows bindings within milliseconds).
const accessWait = 30 * time.Second

// agentAccess caches the agent's user name (a SelfSubjectReview, once).
type agentAccess struct {
	once sync.Once
	user string
	err  error
}

// identity returns the user name the host API server knows the agent by.
func (m *Manager) identity(ctx context.Context) (string, error) {
	m.access.once.Do(func() {
		review := &authnv1.SelfSubjectReview{}
		if err := m.client.Create(ctx, review); err != nil {
			m.access.err = fmt.Errorf("asking the host who the agent is (SelfSubjectReview): %w", err)
			return
		}
		if m.access.user = review.Status.UserInfo.Username; m.access.user == "" {
			m.access.err = errors.New("the host's SelfSubjectReview names no user")
		}
	})
	return m.access.user, m.access.err
}

// agentBinding is the RoleBinding of charts.AgentTenantRole to user in ns. It is not in
// the tenant's inventory: pruning never removes the agent's own access before the objects
// it grants, and the namespace's deletion takes it.
func agentBinding(ns, user string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1",
		"kind":       "RoleBinding",
		"metadata": map[string]any{
			"name": AgentBindingName, "namespace": ns,
			"labels": map[string]any{render.LabelManagedBy: render.ManagedByValue},
		},
		"roleRef":  map[string]any{"apiGroup": rbacv1.GroupName, "kind": "ClusterRole", "name": charts.AgentTenantRole},
		"subjects": []any{map[string]any{"apiGroup": rbacv1.GroupName, "kind": rbacv1.UserKind, "name": user}},
	}}
}

// hasBinding reports whether the agent's RoleBinding rb is live as rendered: same role,
// same subjects, tenantry's label.
func (m *Manager) hasBinding(ctx context.Context, rb *unstructured.Unstructured) bool {
	live := &rbacv1.RoleBinding{}
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(rb), live); err != nil {
		return false
	}
	want := &rbacv1.RoleBinding{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(rb.Object, want); err != nil {
		return false
	}
	return live.Labels[render.LabelManagedBy] == render.ManagedByValue && live.RoleRef == want.RoleRef &&
		reflect.DeepEqual(live.Subjects, want.Subjects)
}

// grantAccess applies the tenant's Namespaces and, in each, the agent's RoleBinding, and
// waits until the API server honours it: the rest of the tenant's objects are applied
// with those rights. It returns what applying the Namespaces did, and the other objects.
func (m *Manager) grantAccess(ctx context.Context, objs []*unstructured.Unstructured) (*ssa.ChangeSet, []*unstructured.Unstructured, error) {
	var namespaces, rest []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" {
			namespaces = append(namespaces, o)
		} else {
			rest = append(rest, o)
		}
	}
	if len(namespaces) == 0 {
		return ssa.NewChangeSet(), rest, nil
	}
	cs, err := m.rm.ApplyAll(ctx, namespaces, ssa.DefaultApplyOptions())
	if err != nil {
		return nil, nil, fmt.Errorf("applying the namespace: %w", err)
	}
	for _, ns := range namespaces {
		if err := m.ensureAgentBinding(ctx, ns.GetName()); err != nil {
			return nil, nil, err
		}
	}
	return cs, rest, nil
}

// ensureAgentBinding applies the agent's RoleBinding in ns and waits until it takes effect.
func (m *Manager) ensureAgentBinding(ctx context.Context, ns string) error {
	user, err := m.identity(ctx)
	if err != nil {
		return err
	}
	rb := agentBinding(ns, user)
	if m.hasBinding(ctx, rb) { // in place since an earlier pass: no write, no access review
		return nil
	}
	if err := m.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(rb), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("binding %s to the agent in %s: %w", charts.AgentTenantRole, ns, err)
	}
	probe := authzv1.ResourceAttributes{Namespace: ns, Verb: "patch", Group: "apps", Resource: "statefulsets"}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, accessWait, true, func(ctx context.Context) (bool, error) {
		return m.allowed(ctx, probe)
	})
	if err != nil {
		return fmt.Errorf("waiting for the agent's RoleBinding in %s to take effect: %w", ns, err)
	}
	return nil
}

// allowed asks the API server whether the agent may do what attrs describe.
func (m *Manager) allowed(ctx context.Context, attrs authzv1.ResourceAttributes) (bool, error) {
	review := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}
	if err := m.client.Create(ctx, review); err != nil {
		return false, fmt.Errorf("SelfSubjectAccessReview: %w", err)
	}
	return review.Status.Allowed, nil
}

// installClusterRoles applies the fixed ClusterRoles (charts.ClusterRoles) when the agent
// may write ClusterRoles (admin credentials: dev, tests); installed by the chart, they are
// left alone.
func (m *Manager) installClusterRoles(ctx context.Context) error {
	ok, err := m.allowed(ctx, authzv1.ResourceAttributes{Verb: "patch", Group: rbacv1.GroupName, Resource: "clusterroles"})
	if err != nil || !ok {
		logr.FromContextOrDiscard(ctx).V(1).Info("not applying the fixed ClusterRoles: the chart ships them", "error", err)
		return nil
	}
	roles, err := charts.ClusterRoles()
	if err != nil {
		return err
	}
	if _, err := m.rm.ApplyAll(ctx, roles, ssa.DefaultApplyOptions()); err != nil {
		return fmt.Errorf("applying the fixed ClusterRoles: %w", err)
	}
	return nil
}

// forbiddenAsMissing runs get; when the agent has no rights in ns yet it binds them (the
// namespace must exist) and retries. A namespace that does not exist reads as not found.
func (m *Manager) forbiddenAsMissing(ctx context.Context, ns string, get func() error) error {
	err := get()
	if !apierrors.IsForbidden(err) {
		return err
	}
	if err := m.ensureAgentBinding(ctx, ns); err != nil {
		return err
	}
	return get()
}
