package plan

import (
	"testing"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

func TestStaleKeepsCurrentAndParsesIDs(t *testing.T) {
	old := []v1alpha1.ObjectRef{
		{ID: "_tenant-a__Namespace", Version: "v1"},
		{ID: "tenant-a_tenant-limits__LimitRange", Version: "v1"},
		{ID: "tenant-a_deny_networking.k8s.io_NetworkPolicy", Version: "v1"},
	}
	current := old[:1]
	got, err := Stale(old, current)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("stale = %d objects, want 2", len(got))
	}
	if got[1].GetKind() != "NetworkPolicy" || got[1].GetAPIVersion() != "networking.k8s.io/v1" || got[1].GetNamespace() != "tenant-a" || got[1].GetName() != "deny" {
		t.Fatalf("parsed %v", got[1].Object)
	}
	if inv := Inventory(got); inv[0].ID != old[2].ID || inv[1].ID != old[1].ID {
		t.Fatalf("inventoryOf round trip = %v", inv)
	}
	if _, err := Stale([]v1alpha1.ObjectRef{{ID: "garbage"}}, nil); err == nil {
		t.Fatal("a malformed inventory entry parsed")
	}
}
