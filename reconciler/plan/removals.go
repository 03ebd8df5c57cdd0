package plan

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/status"
)

// RemovedTenant is a host Tenant whose file left the repo.
type RemovedTenant struct {
	Name           string `json:"name"`
	DeletionPolicy string `json:"deletionPolicy"`
	// Delete lists the objects deleted with the tenant (deletionPolicy Delete).
	Delete []string `json:"delete,omitempty"`
	// Retain lists the objects left in place (deletionPolicy Retain); namespaces are
	// annotated tenantry.dev/orphaned.
	Retain []string `json:"retain,omitempty"`
	// HeldBack says why the removal would be held back, if it would.
	HeldBack string `json:"heldBack,omitempty"`

	// Live is the host Tenant, and Objects its inventory as object stubs; Err is why its
	// status or inventory cannot be read back.
	Live    *unstructured.Unstructured   `json:"-"`
	Objects []*unstructured.Unstructured `json:"-"`
	Err     error                        `json:"-"`
}

// Limits bound how many tenants one revision may remove.
type Limits struct {
	// MaxTenantDeletions is the count limit; defaults.yaml's maxTenantDeletions replaces it.
	MaxTenantDeletions int
	// MaxTenantDeletionShare raises the limit to this share of all managed tenants.
	MaxTenantDeletionShare float64
	// AllowMassDeletion lifts the limit.
	AllowMassDeletion bool
}

// HoldReason is why a pass holds back pruning and tenant removal: the checkout is empty
// or a tenant file failed validation. It is "" when nothing holds them back.
func HoldReason(repo *loader.Repo) string {
	switch {
	case repo.Files == 0:
		return "the checkout has no tenant files"
	case len(repo.Failed) > 0:
		return fmt.Sprintf("%d tenant file(s) failed validation", len(repo.Failed))
	}
	return ""
}

// Removals decides the removal of the managed host Tenants (by name) that no file of the
// repo declares, sorted by name, each by its deletion policy and held back for heldBack.
// It returns, too, why the removals are held back when that is the deletion limit.
func Removals(repo *loader.Repo, managed map[string]*unstructured.Unstructured, heldBack string, l Limits) ([]RemovedTenant, string) {
	gone := departed(repo, managed)
	if len(gone) == 0 {
		return nil, ""
	}
	var why string
	if limit := deletionLimit(repo, l, len(managed)); heldBack == "" && len(gone) > limit && !l.AllowMassDeletion {
		why = fmt.Sprintf("revision would remove %d of %d tenants, more than the limit of %d (use --allow-mass-deletion)", len(gone), len(managed), limit)
		heldBack = why
	}
	out := make([]RemovedTenant, 0, len(gone))
	for _, u := range gone {
		out = append(out, removal(u, heldBack))
	}
	return out, why
}

func removal(u *unstructured.Unstructured, heldBack string) RemovedTenant {
	r := RemovedTenant{Name: u.GetName(), DeletionPolicy: string(v1alpha1.DeletionRetain), HeldBack: heldBack, Live: u}
	st, err := status.Of(u)
	if err == nil {
		r.Objects, err = Objects(st.Inventory)
	}
	if err != nil {
		r.Err = err
		return r
	}
	objs := r.Objects
	if policy, _, _ := unstructured.NestedString(u.Object, "spec", "deletionPolicy"); policy == string(v1alpha1.DeletionDelete) {
		r.DeletionPolicy = policy
	}
	for _, o := range objs {
		if r.DeletionPolicy == string(v1alpha1.DeletionDelete) {
			r.Delete = append(r.Delete, ObjectName(o))
		} else {
			r.Retain = append(r.Retain, ObjectName(o))
		}
	}
	return r
}

// departed lists the managed host Tenants that no file in the repo declares, by name.
func departed(repo *loader.Repo, managed map[string]*unstructured.Unstructured) []*unstructured.Unstructured {
	declared := map[string]bool{}
	for _, t := range repo.Tenants {
		declared[t.Name] = true
	}
	for _, f := range repo.Failed {
		declared[f.Name] = true
	}
	var gone []*unstructured.Unstructured
	for name, u := range managed {
		if !declared[name] {
			gone = append(gone, u)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].GetName() < gone[j].GetName() })
	return gone
}

// deletionLimit is how many tenants one revision may remove: defaults.yaml's
// maxTenantDeletions or the count limit, raised by the share of total.
func deletionLimit(repo *loader.Repo, l Limits, total int) int {
	limit := l.MaxTenantDeletions
	if repo.Defaults != nil && repo.Defaults.Spec.MaxTenantDeletions != nil {
		limit = *repo.Defaults.Spec.MaxTenantDeletions
	}
	return max(limit, int(l.MaxTenantDeletionShare*float64(total)))
}
