package reconciler

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/ssa"
	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/notify"
)

// Drift is the drift found on one tenant in one check.
type Drift struct {
	Tenant    string
	Objects   []v1alpha1.DriftObject
	Corrected bool
	Err       error
	// Changes holds each drifted object's fields with live (Old) and desired (New)
	// values, by object name; Secret values are masked.
	Changes map[string][]notify.FieldChange
}

// CheckDrift compares every applied tenant's objects with the live state through a
// server-side dry-run, records drift on the Tenant, and corrects it unless the tenant
// or the agent is in detect-only mode. It returns only the tenants that drifted or failed.
func (a *Agent) CheckDrift(ctx context.Context) []Drift {
	a.mu.Lock()
	all := make([]*desired, 0, len(a.applied))
	for _, d := range a.applied {
		all = append(all, d)
	}
	a.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].tenant.Name < all[j].tenant.Name })
	var (
		out []Drift
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, a.opts.Workers)
	)
	for _, d := range all {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if r := a.checkTenant(ctx, d); r.Err != nil || len(r.Objects) > 0 {
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Tenant < out[j].Tenant })
	return out
}

// checkTenant is the periodic drift check of one tenant: diff, correct, record.
func (a *Agent) checkTenant(ctx context.Context, d *desired) Drift {
	ctx = withTenant(ctx, d.tenant.Name, d.revision)
	live, old, ok, err := a.getTenant(ctx, d.tenant.Name)
	if err != nil || !ok {
		return Drift{Tenant: d.tenant.Name, Err: fmt.Errorf("reading the tenant: %w", err)}
	}
	st := copyStatus(old)
	r := a.correctDrift(ctx, live, d, st)
	if err := a.patchStatus(ctx, d.tenant.Name, old, st); err != nil && r.Err == nil {
		r.Err = err
	}
	return r
}

// correctDrift diffs a tenant's desired objects against the live state with a server-side
// dry-run, corrects drift unless detect-only, and records it in st, as an Event and an alert.
func (a *Agent) correctDrift(ctx context.Context, live *unstructured.Unstructured, d *desired, st *v1alpha1.TenantStatus) Drift {
	r := a.diffTenant(ctx, d)
	if r.Err != nil || len(r.Objects) == 0 {
		if r.Err == nil {
			a.setDriftSeen(d.tenant.Name, "")
		}
		return r
	}
	r.Corrected = !a.opts.DetectOnly && d.tenant.Spec.Drift.Mode != v1alpha1.DriftDetectOnly
	if r.Corrected {
		// A namespace that is no longer the tenant's (deleted and recreated by someone
		// else, or its labels taken back) is never re-adopted by a correction.
		if _, err := a.claimNamespace(ctx, d.tenant, nil); err != nil {
			r.Corrected, r.Err = false, fmt.Errorf("not correcting drift: %w", err)
		} else if _, err := a.apply(ctx, d.objects); err != nil {
			r.Corrected, r.Err = false, fmt.Errorf("correcting drift: %w", err)
		}
	}
	a.opts.Metrics.observeDrift(d.tenant.Name, r.Corrected)
	// Uncorrected drift stays until someone acts: report it once, not on every check.
	if sig := fmt.Sprint(r.Objects); r.Corrected || a.setDriftSeen(d.tenant.Name, sig) != sig {
		a.recordDrift(ctx, live, d, r, st)
	}
	return r
}

// diffTenant lists the drifted objects of a tenant and their drifted field paths.
func (a *Agent) diffTenant(ctx context.Context, d *desired) Drift {
	r := Drift{Tenant: d.tenant.Name}
	for _, obj := range d.objects {
		entry, live, merged, err := a.rm.Diff(ctx, obj.DeepCopy(), ssa.DefaultDiffOptions())
		if err != nil {
			r.Err = fmt.Errorf("diffing %s: %w", objectName(obj), err)
			return r
		}
		switch entry.Action {
		case ssa.CreatedAction:
			r.Objects = append(r.Objects, v1alpha1.DriftObject{Object: objectName(obj), Fields: []string{"(deleted)"}})
		case ssa.ConfiguredAction:
			changes := driftChanges(obj.GetKind(), live.Object, merged.Object)
			if r.Changes == nil {
				r.Changes = map[string][]notify.FieldChange{}
			}
			r.Changes[objectName(obj)] = changes
			r.Objects = append(r.Objects, v1alpha1.DriftObject{Object: objectName(obj), Fields: fieldPaths(changes)})
		}
	}
	return r
}

// setDriftSeen stores the drift signature last reported for a tenant and returns the previous one.
func (a *Agent) setDriftSeen(tenant, sig string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	prev := a.driftSeen[tenant]
	a.driftSeen[tenant] = sig
	return prev
}

// recordDrift puts the drift in st, emits an event and alerts.
func (a *Agent) recordDrift(ctx context.Context, live *unstructured.Unstructured, d *desired, r Drift, st *v1alpha1.TenantStatus) {
	log := logr.FromContextOrDiscard(ctx).WithValues("tenant", r.Tenant)
	action := "detected (detect-only)"
	if r.Corrected {
		action = "corrected"
	}
	summary := fmt.Sprintf("%d object(s) %s", len(r.Objects), action)
	st.LastDrift = &v1alpha1.DriftRecord{Time: metav1.NewTime(time.Now().UTC().Truncate(time.Second)), Summary: summary,
		Revision: d.revision, Objects: r.Objects, Corrected: r.Corrected}
	var lines []string
	diffs := make([]notify.ObjectDiff, 0, len(r.Objects))
	for _, o := range r.Objects {
		lines = append(lines, o.Object+": "+strings.Join(o.Fields, ", "))
		diffs = append(diffs, notify.ObjectDiff{Object: o.Object, Fields: o.Fields, Changes: r.Changes[o.Object],
			Secret: strings.HasPrefix(o.Object, "Secret/")})
	}
	reason := v1alpha1.ReasonDriftDetected
	if r.Corrected {
		reason = v1alpha1.ReasonDriftCorrected
	}
	log.Info("drift "+action, "objects", lines)
	a.recorder.Eventf(live, corev1.EventTypeWarning, reason, "drift %s:\n%s", action, strings.Join(lines, "\n"))
	a.notify(ctx, notify.Event{Kind: notify.KindDrift, Tenant: r.Tenant, Revision: d.revision,
		Message: "drift " + action, Objects: diffs, Corrected: r.Corrected})
}

// diffPaths lists the dotted field paths where merged (what we apply) differs from live.
func diffPaths(live, merged map[string]any) []string {
	return fieldPaths(driftChanges("", live, merged))
}

var ignoredPaths = map[string]bool{
	"metadata.managedFields": true, "metadata.resourceVersion": true, "metadata.generation": true,
	"metadata.uid": true, "metadata.creationTimestamp": true, "status": true,
}

func objectName(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}
