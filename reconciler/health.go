package reconciler

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
)

// healthBearing reports whether an object's health is more than its existence: workloads
// roll out, claims bind. The rest of a tenant's objects are healthy once applied.
func healthBearing(o *unstructured.Unstructured) bool {
	gvk := o.GroupVersionKind()
	return gvk.Group == "apps" || (gvk.Group == "" && (gvk.Kind == "Pod" || gvk.Kind == "PersistentVolumeClaim"))
}

// waitHealthy waits, within the health timeout, until every object of the tenant is
// healthy (kstatus Current, constraints enforced): all of them, on every pass, whether or
// not this pass changed them, as Flux does. A timeout names what blocks.
func (a *Agent) waitHealthy(ctx context.Context, objs []*unstructured.Unstructured) error {
	var ids object.ObjMetadataSet
	for _, o := range objs {
		if healthBearing(o) {
			ids = append(ids, object.UnstructuredToObjMetadata(o))
		}
	}
	if len(ids) > 0 {
		wait := ssa.WaitOptions{Interval: 200 * time.Millisecond, Timeout: a.opts.HealthTimeout}
		if err := a.rm.WaitForSetWithContext(ctx, ids, wait); err != nil {
			return fmt.Errorf("health check: %w%s", err, a.blockers(ctx, objs))
		}
	}
	if err := a.waitEnforced(ctx, objs); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	return nil
}

// stillHealthy checks, once and without waiting, that the health-bearing objects of a
// tenant Git did not change are still Current: a Ready tenant whose StatefulSet lost its
// pod turns not Ready on the next pass. It only reads.
func (a *Agent) stillHealthy(ctx context.Context, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if !healthBearing(o) {
			continue
		}
		res, err := a.liveStatus(ctx, o)
		if err != nil {
			return err
		}
		if res.Status != status.CurrentStatus {
			return fmt.Errorf("%s is %s: %s%s", object.UnstructuredToObjMetadata(o), res.Status, res.Message, a.blockers(ctx, objs))
		}
	}
	return nil
}

func (a *Agent) liveStatus(ctx context.Context, o *unstructured.Unstructured) (*status.Result, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(o.GroupVersionKind())
	if err := a.client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
		return nil, fmt.Errorf("reading %s: %w", object.UnstructuredToObjMetadata(o), err)
	}
	res, err := status.Compute(live)
	if err != nil {
		return nil, fmt.Errorf("computing the status of %s: %w", object.UnstructuredToObjMetadata(o), err)
	}
	return res, nil
}

// blockers is the first reason each unhealthy StatefulSet gives, as "; blocked: ..."
// (empty when none is found): its pods' scheduling, image and crash reasons, else its own
// latest Warning event (a FailedCreate carries the API server's refusal).
func (a *Agent) blockers(ctx context.Context, objs []*unstructured.Unstructured) string {
	var out []string
	for _, o := range objs {
		if o.GetKind() != "StatefulSet" || o.GroupVersionKind().Group != "apps" {
			continue
		}
		if why := a.statefulSetBlocker(ctx, o); why != "" {
			out = append(out, why)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "; blocked: " + strings.Join(out, "; ")
}

func (a *Agent) statefulSetBlocker(ctx context.Context, sts *unstructured.Unstructured) string {
	ns, name := sts.GetNamespace(), sts.GetName()
	sel, _, _ := unstructured.NestedStringMap(sts.Object, "spec", "selector", "matchLabels")
	if len(sel) > 0 {
		var pods corev1.PodList
		if err := a.client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(sel)}); err == nil {
			for i := range pods.Items {
				if why := podBlocker(&pods.Items[i]); why != "" {
					return why
				}
			}
		}
	}
	return a.latestWarning(ctx, ns, "StatefulSet", name)
}

// podBlocker says why a pod is not running and ready, from its conditions and container
// states; empty when it is, or when it gives no reason yet.
func podBlocker(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return fmt.Sprintf("pod %s: %s: %s", p.Name, c.Reason, c.Message)
		}
	}
	for _, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" && w.Reason != "PodInitializing" {
			return fmt.Sprintf("pod %s: container %s: %s: %s", p.Name, cs.Name, w.Reason, w.Message)
		}
		if t := cs.LastTerminationState.Terminated; t != nil && !cs.Ready && t.ExitCode != 0 {
			return fmt.Sprintf("pod %s: container %s exited %d: %s", p.Name, cs.Name, t.ExitCode, cmp.Or(t.Message, t.Reason))
		}
	}
	return ""
}

// latestWarning is the newest Warning event about an object, as "Reason: message".
func (a *Agent) latestWarning(ctx context.Context, ns, kind, name string) string {
	var events corev1.EventList
	fields := client.MatchingFields{"involvedObject.kind": kind, "involvedObject.name": name, "type": corev1.EventTypeWarning}
	if err := a.client.List(ctx, &events, client.InNamespace(ns), fields); err != nil {
		return ""
	}
	var latest *corev1.Event
	for i := range events.Items {
		e := &events.Items[i]
		if latest == nil || eventTime(e).After(eventTime(latest)) {
			latest = e
		}
	}
	if latest == nil {
		return ""
	}
	return fmt.Sprintf("%s %s: %s: %s", kind, name, latest.Reason, latest.Message)
}

func eventTime(e *corev1.Event) time.Time {
	for _, t := range []time.Time{e.LastTimestamp.Time, e.EventTime.Time, e.FirstTimestamp.Time} {
		if !t.IsZero() {
			return t
		}
	}
	return e.CreationTimestamp.Time
}

// errControlPlaneNotReady is returned when every object is applied but the tenant's
// virtual control plane does not answer ready.
var errControlPlaneNotReady = errors.New("the virtual cluster's control plane is not ready")

// mergeInventory is the union of two inventories, sorted: after a failed health check the
// applied objects join the inventory (so a later removal prunes them), and the stale entries
// not yet pruned stay.
func mergeInventory(current, old []v1alpha1.ObjectRef) []v1alpha1.ObjectRef {
	out := slices.Clone(current)
	for _, r := range old {
		if !slices.ContainsFunc(out, func(c v1alpha1.ObjectRef) bool { return c.ID == r.ID }) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(x, y v1alpha1.ObjectRef) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// markControlPlaneNotReady records that the control plane is not ready, when it is reported.
func markControlPlaneNotReady(st *v1alpha1.TenantStatus) {
	if st.ControlPlane != nil {
		st.ControlPlane.Ready = false
	}
}
