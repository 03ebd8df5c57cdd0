package history

import (
	"context"
	"fmt"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/status"
)

// States of a change on the host cluster.
const (
	// StateApplied: the agent applied a revision that includes the change.
	StateApplied = "applied"
	// StatePending: the agent has not applied a revision that includes the change yet.
	StatePending = "pending"
	// StateFailed: the agent attempted a revision that includes the change and failed.
	StateFailed = "failed"
	// StatePartial: for defaults.yaml, some tenants applied the change and others not yet.
	StatePartial = "partial"
	// StateAbsent: the host has no Tenant of that name.
	StateAbsent = "absent"
	// StateUnknown: the cluster applied a revision that is not in this repo.
	StateUnknown = "unknown"
)

// Applied says whether and when the host cluster applied a change.
type Applied struct {
	State string `json:"state"`
	// Time is when the agent applied (or failed to apply) the change's own revision, from
	// the Tenant's Events; nil when no Event of that revision is left (they expire).
	Time   *time.Time `json:"time,omitempty"`
	Detail string     `json:"detail,omitempty"`
}

// TenantState is what the host cluster records about one tenant.
type TenantState struct {
	LastAppliedRevision   string
	LastAttemptedRevision string
	ContentRevision       string
	// Ready is the Ready condition's status and Message its message.
	Ready   metav1.ConditionStatus
	Message string
	// Events are the Tenant's Events that carry a revision annotation.
	Events []Event
}

// Event is an Event of a host Tenant.
type Event struct {
	Revision string
	Type     string
	Reason   string
	Message  string
	Time     time.Time
}

// ClusterStates reads every host Tenant's status and its Events, by tenant name, with the
// revision each applied as status.AppliedRevisions reads it against the records of the
// agents in agentNamespace. A cluster without the Tenant kind has no tenants.
func ClusterStates(ctx context.Context, c client.Client, agentNamespace string) (map[string]TenantState, error) {
	tenants, err := status.ListTenants(ctx, c)
	if apimeta.IsNoMatchError(err) {
		return map[string]TenantState{}, nil
	}
	if err != nil {
		return nil, err
	}
	states := make(map[string]TenantState, len(tenants))
	applied := status.AppliedRevisions(ctx, c, agentNamespace, tenants)
	for _, t := range tenants {
		st := TenantState{LastAppliedRevision: applied[t.Name], LastAttemptedRevision: t.Status.LastAttemptedRevision,
			ContentRevision: t.Status.ContentRevision, Ready: metav1.ConditionUnknown}
		if ready := apimeta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady); ready != nil {
			st.Ready, st.Message = ready.Status, ready.Message
		}
		states[t.Name] = st
	}
	events := &corev1.EventList{}
	if err := c.List(ctx, events, client.MatchingFields{"involvedObject.kind": v1alpha1.Kind}); err != nil {
		return nil, fmt.Errorf("listing the Tenants' events: %w", err)
	}
	for _, ev := range events.Items {
		st, ok := states[ev.InvolvedObject.Name]
		rev := ev.Annotations["revision"]
		if !ok || rev == "" || ev.InvolvedObject.APIVersion != v1alpha1.APIVersion {
			continue
		}
		st.Events = append(st.Events, Event{Revision: rev, Type: ev.Type, Reason: ev.Reason, Message: ev.Message, Time: eventTime(ev)})
		states[ev.InvolvedObject.Name] = st
	}
	return states, nil
}

func eventTime(ev corev1.Event) time.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.FirstTimestamp.Time
}

// Annotate fills in Applied on every file change of commits (read by Log from opts), from
// the cluster's tenant states. A change to defaults.yaml is judged against opts.Tenant or,
// without one, against every tenant on the cluster.
func Annotate(opts Options, commits []Commit, states map[string]TenantState) error {
	repo, _, err := open(opts.Dir)
	if err != nil {
		return err
	}
	j := judge{repo: repo, states: states}
	for i := range commits {
		for k := range commits[i].Files {
			f := &commits[i].Files[k]
			tenant := f.Tenant
			if tenant == "" {
				tenant = opts.Tenant
			}
			var a Applied
			if tenant != "" {
				a, err = j.tenant(commits[i].Hash, tenant, f.Change)
			} else {
				a, err = j.everyTenant(commits[i].Hash)
			}
			if err != nil {
				return err
			}
			f.Applied = &a
		}
	}
	return nil
}

type judge struct {
	repo   *git.Repository
	states map[string]TenantState
}

// tenant judges whether the tenant's host state includes commit c.
func (j judge) tenant(c, name, change string) (Applied, error) {
	st, ok := j.states[name]
	if !ok {
		if change == Removed {
			return Applied{State: StateApplied, Detail: "the Tenant is gone from the cluster"}, nil
		}
		return Applied{State: StateAbsent, Detail: "no Tenant " + name + " on the cluster"}, nil
	}
	applied, known, err := j.includes(st.LastAppliedRevision, c)
	if err != nil {
		return Applied{}, err
	}
	if !known && st.LastAppliedRevision != "" {
		return Applied{State: StateUnknown, Detail: "the cluster applied " + st.LastAppliedRevision + ", which is not in this repo"}, nil
	}
	if applied {
		out := Applied{State: StateApplied, Time: eventAt(st.Events, c, corev1.EventTypeNormal),
			Detail: "included in lastAppliedRevision " + st.LastAppliedRevision}
		if commitHash(st.ContentRevision) == c {
			out.Detail += "; the tenant's objects are stamped with this revision"
		}
		return out, nil
	}
	attempted, _, err := j.includes(st.LastAttemptedRevision, c)
	if err != nil {
		return Applied{}, err
	}
	failedAt := eventAt(st.Events, c, corev1.EventTypeWarning)
	switch {
	case attempted && st.Ready == metav1.ConditionFalse:
		return Applied{State: StateFailed, Time: failedAt, Detail: st.Message}, nil
	case failedAt != nil:
		return Applied{State: StateFailed, Time: failedAt, Detail: "a Warning event for this revision"}, nil
	case st.LastAppliedRevision == "":
		return Applied{State: StatePending, Detail: "the tenant was never applied"}, nil
	}
	return Applied{State: StatePending, Detail: "the cluster is at " + st.LastAppliedRevision}, nil
}

// everyTenant judges a change to defaults.yaml against every tenant on the cluster.
func (j judge) everyTenant(c string) (Applied, error) {
	var applied, total int
	for _, st := range j.states {
		ok, _, err := j.includes(st.LastAppliedRevision, c)
		if err != nil {
			return Applied{}, err
		}
		total++
		if ok {
			applied++
		}
	}
	switch {
	case total == 0:
		return Applied{State: StateAbsent, Detail: "no Tenant on the cluster"}, nil
	case applied == total:
		return Applied{State: StateApplied, Detail: fmt.Sprintf("all %d tenant(s) applied it", total)}, nil
	case applied == 0:
		return Applied{State: StatePending, Detail: fmt.Sprintf("none of %d tenant(s) applied it yet", total)}, nil
	}
	return Applied{State: StatePartial, Detail: fmt.Sprintf("%d of %d tenant(s) applied it", applied, total)}, nil
}

// includes reports whether revision rev includes commit c (c is rev or an ancestor of
// it); known is false when rev is empty or its commit is not in the repo.
func (j judge) includes(rev, c string) (included, known bool, err error) {
	h := commitHash(rev)
	if h == "" {
		return false, false, nil
	}
	if h == c {
		return true, true, nil
	}
	if _, err := j.repo.CommitObject(plumbing.NewHash(h)); err != nil {
		return false, false, nil //nolint:nilerr // a revision the repo lacks is reported as unknown
	}
	ok, err := isAncestor(j.repo, c, h)
	return ok, true, err
}

// eventAt returns the time of the newest event of type typ for revision c, or nil.
func eventAt(events []Event, c, typ string) *time.Time {
	var at *time.Time
	for _, e := range events {
		if e.Type == typ && commitHash(e.Revision) == c && (at == nil || e.Time.After(*at)) {
			t := e.Time
			at = &t
		}
	}
	return at
}
