package controlplane

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	applyrbacv1 "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tenantry/tenantry/api/wellknown"
)

// OwnersBinding is the virtual ClusterRoleBinding that makes Config.Owners cluster-admin.
const OwnersBinding = "tenantry:owners"

// ownersBinding renders OwnersBinding for the owners (User or Group subjects).
func (c *Config) ownersBinding() *applyrbacv1.ClusterRoleBindingApplyConfiguration {
	subjects := make([]*applyrbacv1.SubjectApplyConfiguration, 0, len(c.Owners))
	for _, o := range c.Owners {
		subjects = append(subjects, applyrbacv1.Subject().WithKind(o.Kind).WithName(o.Name).WithAPIGroup(rbacv1.GroupName))
	}
	return applyrbacv1.ClusterRoleBinding(OwnersBinding).
		WithLabels(map[string]string{wellknown.LabelManagedBy: wellknown.ManagedBy}).
		WithRoleRef(applyrbacv1.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("ClusterRole").WithName("cluster-admin")).
		WithSubjects(subjects...)
}

// applyOwnersBinding server-side applies OwnersBinding in the virtual cluster.
func (c *Config) applyOwnersBinding(ctx context.Context, virtual kubernetes.Interface) error {
	_, err := virtual.RbacV1().ClusterRoleBindings().Apply(ctx, c.ownersBinding(), metav1.ApplyOptions{FieldManager: wellknown.FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("applying ClusterRoleBinding %s: %w", OwnersBinding, err)
	}
	return nil
}
