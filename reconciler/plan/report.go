package plan

// Actions of an object in a Plan.
const (
	ActionCreate    = "create"
	ActionConfigure = "configure"
	ActionUnchanged = "unchanged"
	ActionDelete    = "delete"
)

// Kinds of drift in a Plan: see ObjectChange.Drift.
const (
	DriftCorrected  = "corrected"
	DriftCheck      = "drift-check"
	DriftDetectOnly = "detect-only"
)

// Plan is what one Sync of a checkout would do to the host cluster, as `tenantry diff`
// prints it: the pass's decisions (Decide, Removals) with each object's server-side dry-run.
type Plan struct {
	// Revision is the revision the plan stamps on changed objects.
	Revision string `json:"revision"`
	// Tenants are the valid tenants of the checkout, sorted by name.
	Tenants []TenantPlan `json:"tenants"`
	// Templates are the ConstraintTemplates the tenants use, then their shared
	// constraints. The agent applies them before the tenants; the plan only dry-runs them.
	Templates []ObjectChange `json:"templates,omitempty"`
	// Removed are the host Tenants of this agent instance whose files left the repo.
	Removed []RemovedTenant `json:"removed,omitempty"`
	// Invalid are the tenant files that fail validation.
	Invalid []InvalidFile `json:"invalid,omitempty"`
	// HeldBack says why Sync would hold back pruning and tenant removal, if it would.
	HeldBack string `json:"heldBack,omitempty"`
}

// TenantPlan is what a Sync would do to one tenant.
type TenantPlan struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	// New is true when the host has no Tenant of this name yet.
	New bool `json:"new,omitempty"`
	// Paused tenants only have their Tenant object applied.
	Paused bool `json:"paused,omitempty"`
	// Objects are the Tenant mirror, then the rendered objects in apply order, then the
	// objects to prune.
	Objects []ObjectChange `json:"objects"`
	// Error is why the tenant cannot be planned (a refusal, a render or dry-run failure).
	Error string `json:"error,omitempty"`
}

// ObjectChange is the planned action on one object.
type ObjectChange struct {
	// Object is "Kind/namespace/name", or "Kind/name" when cluster-scoped.
	Object string `json:"object"`
	Action string `json:"action"`
	// Fields are the changed fields of a configured object, live value first.
	Fields []FieldChange `json:"fields,omitempty"`
	// StampOnly is true when only the tenantry.dev/revision annotation changes: the
	// tenant changed in Git, so all its objects are stamped with the new revision.
	StampOnly bool `json:"stampOnly,omitempty"`
	// Drift is set when Git did not change the object but the live one differs from it:
	// DriftCorrected when this Sync corrects it, DriftCheck when Sync leaves it to the
	// agent's periodic drift check (the tenant is Ready and up to date), DriftDetectOnly
	// when the agent only reports it. Only DriftCorrected counts as a change.
	Drift string `json:"drift,omitempty"`
	// HeldBack is true for a prune that Sync would hold back.
	HeldBack bool `json:"heldBack,omitempty"`
}

// InvalidFile is a tenant file that fails validation.
type InvalidFile struct {
	Tenant string `json:"tenant"`
	Path   string `json:"path"`
	// Errors are "file:line: field: message".
	Errors []string `json:"errors"`
}

// Changes reports whether the Sync of the plan's revision changes the object.
func (c ObjectChange) Changes() bool {
	return c.Action != ActionUnchanged && !c.HeldBack && (c.Drift == "" || c.Drift == DriftCorrected)
}

// Changed reports whether a Sync of the checkout would change the cluster.
func (p *Plan) Changed() bool {
	for _, t := range p.Tenants {
		if t.Changed() {
			return true
		}
	}
	for _, o := range p.Templates {
		if o.Changes() {
			return true
		}
	}
	for _, r := range p.Removed {
		if r.HeldBack == "" {
			return true
		}
	}
	return false
}

// Failed reports whether any tenant file is invalid or any tenant could not be planned.
func (p *Plan) Failed() bool {
	if len(p.Invalid) > 0 {
		return true
	}
	for _, t := range p.Tenants {
		if t.Error != "" {
			return true
		}
	}
	return false
}

// Changed reports whether a Sync would change any of the tenant's objects.
func (t *TenantPlan) Changed() bool {
	for _, o := range t.Objects {
		if o.Changes() {
			return true
		}
	}
	return false
}

// Drift is how the plan's report marks the changes a dry-run finds on the tenant's objects:
// none when they are applied, else the drift that this Action leaves or corrects.
func (p *Tenant) Drift() string {
	switch p.Action {
	case Confirm:
		return DriftCheck
	case DetectDrift:
		return DriftDetectOnly
	case CorrectDrift:
		return DriftCorrected
	}
	return ""
}
