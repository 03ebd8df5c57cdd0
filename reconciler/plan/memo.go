package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// Memo remembers, per tenant, the inputs of its last plan that was carried out in full and
// the little the next pass needs from it, so a pass confirms a tenant whose file and render
// options did not change without rendering it again: the cost of a pass that changes one
// tenant does not grow with the others. Nothing rendered is kept.
type Memo struct {
	mu       sync.Mutex
	byTenant map[string]memoEntry
}

type memoEntry struct {
	input, digest, inventory string
	// workloads are stubs of the objects whose health Confirm re-reads.
	workloads []*unstructured.Unstructured
}

// NewMemo returns an empty memo.
func NewMemo() *Memo { return &Memo{byTenant: map[string]memoEntry{}} }

// Remember records a plan carried out in full (applied, or confirmed, and Ready).
func (m *Memo) Remember(p *Tenant) {
	if m == nil || p.input == "" || p.Content == nil {
		return
	}
	e := memoEntry{input: p.input, digest: p.Content.Digest}
	if p.Objects != nil {
		e.inventory = inventoryKey(Inventory(p.Objects))
		for _, w := range workloads(p.Objects) {
			e.workloads = append(e.workloads, stub(w))
		}
	} else if prev, ok := m.get(p.Name); ok && prev.input == p.input { // confirmed from the memo
		e.inventory, e.workloads = prev.inventory, prev.workloads
	} else {
		m.Forget(p.Name)
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byTenant[p.Name] = e
}

// Forget drops a tenant: its next plan renders it.
func (m *Memo) Forget(name string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byTenant, name)
}

func (m *Memo) get(name string) (memoEntry, bool) {
	if m == nil {
		return memoEntry{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byTenant[name]
	return e, ok
}

// confirmUnchanged decides Confirm without rendering when the memo holds this tenant with
// the same inputs and old still records what that plan left: its content digest, Ready,
// and the same inventory. With a memo it sets p.input either way.
func (p *Tenant) confirmUnchanged(pass *Pass, old *v1alpha1.TenantStatus) (bool, error) {
	if pass.Memo == nil {
		return false, nil
	}
	in, err := inputKey(pass.RenderKey, p.Source, p.Declared)
	if err != nil {
		return false, err
	}
	p.input = in
	e, ok := pass.Memo.get(p.Name)
	if !ok || e.input != in || e.digest != old.ContentDigest || old.ContentRevision == "" ||
		!ready(old) || e.inventory != inventoryKey(old.Inventory) {
		return false, nil
	}
	p.Content = &Content{Digest: old.ContentDigest, Revision: old.ContentRevision}
	p.Action, p.Health = Confirm, Health{Workloads: e.workloads}
	return true, nil
}

// RenderKey digests what rendering depends on besides the tenant, once per pass.
func RenderKey(o render.DesiredOptions) (string, error) {
	kinds := make([]string, 0, len(o.Templates))
	for k := range o.Templates {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	h := sha256.New()
	enc := json.NewEncoder(h)
	if err := enc.Encode([]any{o.HostAPI, o.VirtualClusters, o.VCluster, fmt.Sprint(o.TemplatesErr)}); err != nil {
		return "", fmt.Errorf("digesting the render options: %w", err)
	}
	for _, k := range kinds {
		if err := enc.Encode(o.Templates[k].Object); err != nil {
			return "", fmt.Errorf("digesting template %s: %w", k, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// inputKey digests one tenant's render inputs: the pass's render key, its file's path and
// the tenant as loaded (defaults applied).
func inputKey(renderKey, source string, t *v1alpha1.Tenant) (string, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("digesting tenant %s: %w", t.Name, err)
	}
	h := sha256.New()
	h.Write([]byte(renderKey + "\x00" + source + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// inventoryKey digests the IDs and versions of an inventory (not its digests or stamps).
func inventoryKey(refs []v1alpha1.ObjectRef) string {
	h := sha256.New()
	for _, r := range refs {
		h.Write([]byte(r.ID + "\x00" + r.Version + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ready reports whether a tenant is Ready and not paused.
func ready(st *v1alpha1.TenantStatus) bool {
	c := apimeta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason != v1alpha1.ReasonPaused
}

// stub is an object's identity only (apiVersion, kind, namespace, name).
func stub(o *unstructured.Unstructured) *unstructured.Unstructured {
	s := &unstructured.Unstructured{}
	s.SetGroupVersionKind(o.GroupVersionKind())
	s.SetNamespace(o.GetNamespace())
	s.SetName(o.GetName())
	return s
}
