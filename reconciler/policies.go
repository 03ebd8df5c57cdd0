package reconciler

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/policy"
	"github.com/tenantry/tenantry/reconciler/loader"
	"github.com/tenantry/tenantry/reconciler/render"
)

// policyPhase is the first of the two policy phases: the ConstraintTemplates that tenants
// use are applied and each is waited for until Gatekeeper has created its constraint CRD
// (status.created). Constraints are applied per tenant afterwards, with its other objects.
type policyPhase struct {
	templates map[string]*unstructured.Unstructured // by constraint kind
	err       error                                 // why tenants with policies cannot be applied
}

// applyTemplates applies the templates used by any tenant (see collectTemplates) and
// waits until Gatekeeper has created their constraint CRDs.
func (a *Agent) applyTemplates(ctx context.Context, repo *loader.Repo) *policyPhase {
	ph, used := a.collectTemplates(repo)
	if ph.err != nil || len(used) == 0 {
		return ph
	}
	if _, err := a.rm.ApplyAll(ctx, used, ssa.DefaultApplyOptions()); err != nil {
		ph.err = fmt.Errorf("applying ConstraintTemplates (is Gatekeeper installed?): %w", err)
		return ph
	}
	ph.err = a.waitTemplatesCreated(ctx, used)
	return ph
}

// collectTemplates builds the policy phase without applying anything: tenantry's library,
// overridden by the repo's policies/ of the same kind, and the templates tenants use,
// labelled as they are applied.
func (a *Agent) collectTemplates(repo *loader.Repo) (*policyPhase, []*unstructured.Unstructured) {
	templates, err := TemplatesByKind(a.opts.Templates, repo.Policies)
	ph := &policyPhase{templates: templates, err: err}
	if err != nil {
		return ph, nil
	}
	used := usedTemplates(repo.Tenants, ph.templates)
	for _, t := range used {
		t.SetLabels(map[string]string{render.LabelManagedBy: render.ManagedByValue, LabelAgent: a.opts.Instance})
	}
	return ph, used
}

// TemplatesByKind maps constraint kinds to ConstraintTemplates: the library, overridden by
// every template of the repo's policies/ files (which may hold several documents).
func TemplatesByKind(library []*unstructured.Unstructured, docs []loader.Document) (map[string]*unstructured.Unstructured, error) {
	out := make(map[string]*unstructured.Unstructured, len(library))
	for _, t := range library {
		out[render.TemplateKind(t)] = t
	}
	for _, d := range docs {
		objs, err := policy.DecodeObjects(d.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Path, err)
		}
		for _, o := range objs {
			out[render.TemplateKind(o)] = o
		}
	}
	return out, nil
}

func usedTemplates(tenants []*v1alpha1.Tenant, all map[string]*unstructured.Unstructured) []*unstructured.Unstructured {
	kinds := map[string]bool{}
	for _, t := range tenants {
		for _, p := range t.Spec.Policies {
			kinds[p.Template] = true
		}
	}
	var out []*unstructured.Unstructured
	for k := range kinds {
		if t, ok := all[k]; ok {
			out = append(out, t.DeepCopy())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

// waitTemplatesCreated waits for status.created on every template: kstatus reports
// templates Current at once, before their constraint CRD exists.
func (a *Agent) waitTemplatesCreated(ctx context.Context, templates []*unstructured.Unstructured) error {
	return a.poll(ctx, templates, "ConstraintTemplate status.created", func(u *unstructured.Unstructured) bool {
		created, _, _ := unstructured.NestedBool(u.Object, "status", "created")
		return created
	})
}

// waitEnforced waits until Gatekeeper reports every constraint enforced by its webhook.
func (a *Agent) waitEnforced(ctx context.Context, objs []*unstructured.Unstructured) error {
	var constraints []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetAPIVersion() == render.ConstraintAPIVersion {
			constraints = append(constraints, o)
		}
	}
	return a.poll(ctx, constraints, "constraint enforced (status.byPod[].enforced)", func(u *unstructured.Unstructured) bool {
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
func (a *Agent) poll(ctx context.Context, objs []*unstructured.Unstructured, what string, ready func(*unstructured.Unstructured) bool) error {
	for _, o := range objs {
		live := &unstructured.Unstructured{}
		live.SetGroupVersionKind(o.GroupVersionKind())
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, a.opts.HealthTimeout, true, func(ctx context.Context) (bool, error) {
			if err := a.client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
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
