package apply

import (
	"context"
	"fmt"

	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"

	"github.com/tenantry/tenantry/policy/guards"
	"github.com/tenantry/tenantry/reconciler/render"
)

// ApplyGuards server-side applies the host guards (policy/guards): the
// ValidatingAdmissionPolicies and bindings that refuse, in every tenant namespace, what
// none of its service accounts (the syncer's above all) may write. They are shared by all
// tenants and agents: applied once per pass before any tenant, never pruned by one.
func (m *Manager) ApplyGuards(ctx context.Context) error {
	objs, err := guards.Objects()
	if err != nil {
		return fmt.Errorf("loading the host guards: %w", err)
	}
	for _, o := range objs {
		o.SetLabels(map[string]string{render.LabelManagedBy: render.ManagedByValue})
	}
	cs, err := m.rm.ApplyAll(ctx, objs, ssa.DefaultApplyOptions())
	if err != nil {
		return fmt.Errorf("applying the host guards (ValidatingAdmissionPolicies %v): %w", guards.Names(), err)
	}
	for _, e := range cs.Entries {
		if e.Action != ssa.UnchangedAction {
			logr.FromContextOrDiscard(ctx).Info("host guard applied", "object", e.Subject, "action", e.Action.String())
		}
	}
	return nil
}
