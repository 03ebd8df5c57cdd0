package plan

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/loader"
)

func hostTenant(name, policy string, inventory ...any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{}}}
	u.SetName(name)
	if policy != "" {
		u.Object["spec"].(map[string]any)["deletionPolicy"] = policy
	}
	if len(inventory) > 0 {
		u.Object["status"] = map[string]any{"inventory": inventory}
	}
	return u
}

func TestHoldReason(t *testing.T) {
	tests := []struct {
		repo loader.Repo
		want string
	}{
		{repo: loader.Repo{Files: 2, Tenants: []*v1alpha1.Tenant{tenantNamed("a"), tenantNamed("b")}}},
		{repo: loader.Repo{}, want: "the checkout has no tenant files"},
		{repo: loader.Repo{Files: 2, Failed: []loader.FailedTenant{{Name: "b"}}}, want: "1 tenant file(s) failed validation"},
	}
	for _, tt := range tests {
		if got := HoldReason(&tt.repo); got != tt.want {
			t.Errorf("HoldReason(%+v) = %q, want %q", tt.repo, got, tt.want)
		}
	}
}

func TestRemovals(t *testing.T) {
	ns := map[string]any{"id": "_tenant-gone__Namespace", "v": "v1"}
	managed := func() map[string]*unstructured.Unstructured {
		return map[string]*unstructured.Unstructured{
			"kept":    hostTenant("kept", ""),
			"invalid": hostTenant("invalid", ""),
			"gone":    hostTenant("gone", "Delete", ns),
			"left":    hostTenant("left", "", ns),
		}
	}
	repo := &loader.Repo{Files: 2, Tenants: []*v1alpha1.Tenant{tenantNamed("kept")}, Failed: []loader.FailedTenant{{Name: "invalid"}}}
	tests := []struct {
		name         string
		heldBack     string
		limits       Limits
		wantWhy      string
		wantHeldBack string
	}{
		{name: "over the count limit", limits: Limits{MaxTenantDeletions: 1},
			wantWhy:      "revision would remove 2 of 4 tenants, more than the limit of 1 (use --allow-mass-deletion)",
			wantHeldBack: "revision would remove 2 of 4 tenants, more than the limit of 1 (use --allow-mass-deletion)"},
		{name: "within the count limit", limits: Limits{MaxTenantDeletions: 2}},
		{name: "within the share", limits: Limits{MaxTenantDeletions: 1, MaxTenantDeletionShare: 0.5}},
		{name: "mass deletion allowed", limits: Limits{MaxTenantDeletions: 1, AllowMassDeletion: true}},
		{name: "held back by the pass", heldBack: "1 tenant file(s) failed validation", limits: Limits{MaxTenantDeletions: 1},
			wantHeldBack: "1 tenant file(s) failed validation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Removals(repo, managed(), tt.heldBack, tt.limits)
			if why != tt.wantWhy {
				t.Errorf("why %q, want %q", why, tt.wantWhy)
			}
			want := []RemovedTenant{
				{Name: "gone", DeletionPolicy: "Delete", Delete: []string{"Namespace/tenant-gone"}, HeldBack: tt.wantHeldBack},
				{Name: "left", DeletionPolicy: "Retain", Retain: []string{"Namespace/tenant-gone"}, HeldBack: tt.wantHeldBack},
			}
			for i := range got {
				if got[i].Err != nil || got[i].Live == nil || len(got[i].Objects) != 1 {
					t.Errorf("%s: live %v, objects %v, error %v", got[i].Name, got[i].Live, got[i].Objects, got[i].Err)
				}
				got[i].Live, got[i].Objects = nil, nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("removals\n%+v, want\n%+v", got, want)
			}
		})
	}
	if got, _ := Removals(repo, map[string]*unstructured.Unstructured{"bad": hostTenant("bad", "", map[string]any{"id": "garbage"})}, "", Limits{MaxTenantDeletions: 1}); len(got) != 1 || got[0].Err == nil {
		t.Errorf("a corrupt inventory: %+v", got)
	}
}
