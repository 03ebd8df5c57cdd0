package apply

import (
	"context"
	"fmt"
	"time"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/reconciler/plan"
)

// rolesFirst applies Roles in a stage before RoleBindings: without the bind verb, the API
// server lets the agent bind a Role only once it exists and holds no more than the agent does.
var rolesFirst = map[schema.GroupKind]struct{}{{Group: rbacv1.GroupName, Kind: "Role"}: {}}

// Apply server-side applies a tenant's objects: the Namespaces with the agent's access to
// them first (grantAccess), then the rest in stages. It returns the changes as
// "Kind/namespace/name action". Health is awaited apart (WaitHealthy).
func (m *Manager) Apply(ctx context.Context, objs []*unstructured.Unstructured) ([]string, error) {
	opts := ssa.DefaultApplyOptions()
	opts.WaitInterval, opts.WaitTimeout = 200*time.Millisecond, m.healthTimeout
	opts.CustomStageKinds = rolesFirst
	cs, rest, err := m.grantAccess(ctx, objs)
	if err != nil {
		return nil, err
	}
	fresh, rest := inCreatedNamespaces(cs, rest)
	staged, err := m.rm.ApplyAllStaged(ctx, rest, opts)
	if staged != nil {
		cs.Append(staged.Entries)
	}
	if err == nil {
		err = m.applyFresh(ctx, fresh, cs)
	}
	logChanges(ctx, "applied", cs, err)
	changes := changesOf(cs)
	if err != nil {
		return changes, fmt.Errorf("applying: %w", err)
	}
	return changes, nil
}

// inCreatedNamespaces splits off the namespaced objects whose Namespace this apply
// created (cs): nothing of theirs can exist yet.
func inCreatedNamespaces(cs *ssa.ChangeSet, objs []*unstructured.Unstructured) (fresh, rest []*unstructured.Unstructured) {
	created := map[string]bool{}
	for _, e := range cs.Entries {
		if e.Action == ssa.CreatedAction && e.ObjMetadata.GroupKind.Kind == "Namespace" {
			created[e.ObjMetadata.Name] = true
		}
	}
	for _, o := range objs {
		if o.GetNamespace() != "" && created[o.GetNamespace()] {
			fresh = append(fresh, o)
		} else {
			rest = append(rest, o)
		}
	}
	return fresh, rest
}

// applyFresh applies objects of a Namespace created by this apply once each: they cannot
// exist, so the server-side apply creates them, and the get and dry-run apply the SSA
// manager makes first to find what changed would be two wasted requests per object (two
// thirds of a cold start's). Roles go first, as in Apply's stages.
func (m *Manager) applyFresh(ctx context.Context, objs []*unstructured.Unstructured, cs *ssa.ChangeSet) error {
	ordered := make([]*unstructured.Unstructured, 0, len(objs))
	for _, first := range []bool{true, false} {
		for _, o := range objs {
			if _, role := rolesFirst[o.GroupVersionKind().GroupKind()]; role == first {
				ordered = append(ordered, o)
			}
		}
	}
	for _, o := range ordered {
		// A copy: the client writes the server's answer into it, and o stays the desired object.
		ac := client.ApplyConfigurationFromUnstructured(o.DeepCopy())
		if err := m.client.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("%s: %w", plan.ObjectName(o), err)
		}
		cs.Add(ssa.ChangeSetEntry{ObjMetadata: object.UnstructuredToObjMetadata(o), GroupVersion: o.GroupVersionKind().Version,
			Subject: plan.ObjectName(o), Action: ssa.CreatedAction})
	}
	return nil
}

// ApplyTemplates applies the ConstraintTemplates tenants use and waits until Gatekeeper has
// created their constraint CRDs (status.created): constraints are applied with each tenant.
func (m *Manager) ApplyTemplates(ctx context.Context, templates []*unstructured.Unstructured) error {
	if len(templates) == 0 {
		return nil
	}
	if _, err := m.rm.ApplyAll(ctx, templates, ssa.DefaultApplyOptions()); err != nil {
		return fmt.Errorf("applying ConstraintTemplates (is Gatekeeper installed?): %w", err)
	}
	return m.poll(ctx, templates, "ConstraintTemplate status.created", func(u *unstructured.Unstructured) bool {
		created, _, _ := unstructured.NestedBool(u.Object, "status", "created")
		return created
	})
}

func changesOf(cs *ssa.ChangeSet) []string {
	if cs == nil {
		return nil
	}
	var out []string
	for _, e := range cs.Entries {
		switch e.Action {
		case ssa.CreatedAction, ssa.ConfiguredAction, ssa.DeletedAction:
			out = append(out, e.String())
		}
	}
	return out
}

// actionCounts counts a ChangeSet's entries by action.
type actionCounts struct{ created, configured, unchanged, deleted, skipped int }

func countActions(cs *ssa.ChangeSet) actionCounts {
	var c actionCounts
	if cs == nil {
		return c
	}
	for _, e := range cs.Entries {
		switch e.Action {
		case ssa.CreatedAction:
			c.created++
		case ssa.ConfiguredAction:
			c.configured++
		case ssa.UnchangedAction:
			c.unchanged++
		case ssa.DeletedAction:
			c.deleted++
		case ssa.SkippedAction:
			c.skipped++
		}
	}
	return c
}

// logChanges writes the one structured line of an apply ("applied") or a prune
// ("pruned"). The context's logger carries the tenant and revision.
func logChanges(ctx context.Context, what string, cs *ssa.ChangeSet, err error) {
	c := countActions(cs)
	kv := []any{"created", c.created, "configured", c.configured, "unchanged", c.unchanged, "deleted", c.deleted}
	if c.skipped > 0 {
		kv = append(kv, "skipped", c.skipped)
	}
	if err != nil {
		kv = append(kv, "error", err.Error())
	}
	logr.FromContextOrDiscard(ctx).Info(what, kv...)
}
