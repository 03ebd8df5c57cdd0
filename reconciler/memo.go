package reconciler

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/reconciler/plan"
)

// memo remembers, per tenant, the plan the agent last carried out in full (Ready): the
// digest of its inputs (plan.InputKey) and the resourceVersion its host Tenant had after
// that pass. A later pass that finds both unchanged knows the tenant is as it left it, so
// it only re-reads its workloads' health: no Tenant read, no render, no write. The cost of
// a pass that changes one tenant then hardly grows with the others. Nothing rendered is
// kept.
type memo struct {
	mu       sync.Mutex
	byTenant map[string]memoEntry
}

type memoEntry struct {
	input, version string
	// workloads are stubs (identity only) of the objects whose health a pass re-reads.
	workloads []*unstructured.Unstructured
}

func newMemo() *memo { return &memo{byTenant: map[string]memoEntry{}} }

// remember records a plan carried out in full, and the Tenant's resourceVersion after it,
// unless it left stale objects in the inventory (pruning held back): those wait for a
// pass that renders the tenant again.
func (m *memo) remember(p *plan.Tenant, version string) {
	if p.Input == "" || version == "" || (p.PruneHeldBack && len(p.Stale) > 0) {
		m.forget(p.Name)
		return
	}
	e := memoEntry{input: p.Input, version: version}
	for _, w := range p.Health.Workloads {
		e.workloads = append(e.workloads, stub(w))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byTenant[p.Name] = e
}

func (m *memo) forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byTenant, name)
}

// unchanged returns the workloads of a tenant remembered with these inputs and Tenant
// resourceVersion; ok is false for any other.
func (m *memo) unchanged(name, input, version string) (workloads []*unstructured.Unstructured, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, found := m.byTenant[name]
	if !found || input == "" || version == "" || e.input != input || e.version != version {
		return nil, false
	}
	return e.workloads, true
}

// stub is an object's identity only (apiVersion, kind, namespace, name).
func stub(o *unstructured.Unstructured) *unstructured.Unstructured {
	s := &unstructured.Unstructured{}
	s.SetGroupVersionKind(o.GroupVersionKind())
	s.SetNamespace(o.GetNamespace())
	s.SetName(o.GetName())
	return s
}
