package apply

import (
	"cmp"
	"context"
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
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/reconciler/plan"
)

// WaitHealthy waits, within the health timeout, until what h expects is healthy: the
// workloads kstatus Current and the constraints enforced, all of them on every pass,
// whether or not this pass changed them, as Flux does. A timeout names what blocks.
func (m *Manager) WaitHealthy(ctx context.Context, h plan.Health) error {
	if len(h.Workloads) > 0 {
		var ids object.ObjMetadataSet
		for _, o := range h.Workloads {
			ids = append(ids, object.UnstructuredToObjMetadata(o))
		}
		wait := ssa.WaitOptions{Interval: 200 * time.Millisecond, Timeout: m.healthTimeout}
		if err := m.rm.WaitForSetWithContext(ctx, ids, wait); err != nil {
			return fmt.Errorf("health check: %w%s", err, m.Blockers(ctx, h.Workloads))
		}
	}
	if err := m.waitEnforced(ctx, h.Constraints); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	return nil
}

// StillHealthy checks once, without waiting, that the workloads are still Current: a
// Ready tenant whose StatefulSet lost its pod turns not Ready on the next pass. It only reads.
func (m *Manager) StillHealthy(ctx context.Context, h plan.Health) error {
	for _, o := range h.Workloads {
		res, err := m.liveStatus(ctx, o)
		if err != nil {
			return err
		}
		if res.Status != status.CurrentStatus {
			return fmt.Errorf("%s is %s: %s%s", object.UnstructuredToObjMetadata(o), res.Status, res.Message, m.Blockers(ctx, h.Workloads))
		}
	}
	return nil
}

func (m *Manager) liveStatus(ctx context.Context, o *unstructured.Unstructured) (*status.Result, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(o.GroupVersionKind())
	if err := m.client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
		return nil, fmt.Errorf("reading %s: %w", object.UnstructuredToObjMetadata(o), err)
	}
	res, err := status.Compute(live)
	if err != nil {
		return nil, fmt.Errorf("computing the status of %s: %w", object.UnstructuredToObjMetadata(o), err)
	}
	return res, nil
}

// Blockers is the first reason each unhealthy StatefulSet among objs gives, as
// "; blocked: ..." (empty when none is found): its pods' scheduling, image and crash
// reasons, else its own latest Warning event (a FailedCreate carries the API server's refusal).
func (m *Manager) Blockers(ctx context.Context, objs []*unstructured.Unstructured) string {
	var out []string
	for _, o := range objs {
		if o.GetKind() != "StatefulSet" || o.GroupVersionKind().Group != "apps" {
			continue
		}
		if why := m.statefulSetBlocker(ctx, o); why != "" {
			out = append(out, why)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "; blocked: " + strings.Join(out, "; ")
}

func (m *Manager) statefulSetBlocker(ctx context.Context, sts *unstructured.Unstructured) string {
	ns, name := sts.GetNamespace(), sts.GetName()
	sel, _, _ := unstructured.NestedStringMap(sts.Object, "spec", "selector", "matchLabels")
	if len(sel) > 0 {
		var pods corev1.PodList
		if err := m.client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: labels.SelectorFromSet(sel)}); err == nil {
			for i := range pods.Items {
				if why := podBlocker(&pods.Items[i]); why != "" {
					return why
				}
			}
		}
	}
	return m.latestWarning(ctx, ns, "StatefulSet", name)
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
func (m *Manager) latestWarning(ctx context.Context, ns, kind, name string) string {
	var events corev1.EventList
	fields := client.MatchingFields{"involvedObject.kind": kind, "involvedObject.name": name, "type": corev1.EventTypeWarning}
	if err := m.client.List(ctx, &events, client.InNamespace(ns), fields); err != nil {
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

// waitEnforced waits until Gatekeeper reports every constraint enforced by its webhook.
func (m *Manager) waitEnforced(ctx context.Context, constraints []*unstructured.Unstructured) error {
	return m.poll(ctx, constraints, "constraint enforced (status.byPod[].enforced)", func(u *unstructured.Unstructured) bool {
		pods, _, _ := unstructured.NestedSlice(u.Object, "status", "byPod")
		for _, p := range pods {
			if m, ok := p.(map[string]any); ok && m["enforced"] == true {
				return true
			}
		}
		return false
	})
}

// poll waits until ready holds for every object's live state, within the health timeout.
func (m *Manager) poll(ctx context.Context, objs []*unstructured.Unstructured, what string, ready func(*unstructured.Unstructured) bool) error {
	for _, o := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, m.healthTimeout, true, func(ctx context.Context) (bool, error) {
			if err := m.client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
				return false, nil //nolint:nilerr // not there yet: keep polling until the timeout
			}
			return ready(live), nil
		})
		if err != nil {
			return fmt.Errorf("waiting for %s on %s %s: %w", what, o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}
