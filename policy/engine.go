package policy

import (
	"context"
	"errors"
	"fmt"
	"sort"

	constraintclient "github.com/open-policy-agent/frameworks/constraint/pkg/client"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/drivers/rego"
	"github.com/open-policy-agent/frameworks/constraint/pkg/client/reviews"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/mutation/types"
	"github.com/open-policy-agent/gatekeeper/v3/pkg/target"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// enforcementPoint is the enforcement point offline reviews run under; it is
// the one Gatekeeper's gator CLI uses, so scopedEnforcementActions behave as
// they do with gator.
const enforcementPoint = "gator.gatekeeper.sh"

// disabledBuiltins are Rego builtins that reach the network. Offline
// evaluation must not depend on (or leak to) the network.
var disabledBuiltins = []string{"http.send", "net.lookup_ip_addr"}

// Violation is one constraint violation found by Engine.Review.
type Violation struct {
	// Constraint is the name of the violated constraint.
	Constraint string
	// Kind is the kind of the violated constraint (the template's kind).
	Kind string
	// Message is the message produced by the template's Rego.
	Message string
	// EnforcementAction is the constraint's spec.enforcementAction
	// ("deny" unless the constraint says otherwise).
	EnforcementAction string
}

// Engine evaluates objects against ConstraintTemplates and constraints with
// Gatekeeper's Rego driver and Kubernetes validation target, without a
// cluster. An Engine is safe for concurrent use.
type Engine struct {
	client *constraintclient.Client
}

// NewEngine returns an Engine with the given ConstraintTemplates loaded.
// Two templates defining the same constraint kind are an error.
func NewEngine(ctx context.Context, templates []*unstructured.Unstructured) (*Engine, error) {
	driver, err := rego.New(rego.DisableBuiltins(disabledBuiltins...))
	if err != nil {
		return nil, fmt.Errorf("creating rego driver: %w", err)
	}
	client, err := constraintclient.NewClient(
		constraintclient.Targets(&target.K8sValidationTarget{}),
		constraintclient.Driver(driver),
		constraintclient.EnforcementPoints(enforcementPoint),
	)
	if err != nil {
		return nil, fmt.Errorf("creating constraint client: %w", err)
	}

	kinds := make(map[string]bool, len(templates))
	for _, u := range templates {
		ct, err := toVersionless(u)
		if err != nil {
			return nil, err
		}
		kind := ct.Spec.CRD.Spec.Names.Kind
		if kinds[kind] {
			return nil, fmt.Errorf("adding ConstraintTemplate %q: %w: kind %s", ct.GetName(), errDuplicateKind, kind)
		}
		kinds[kind] = true
		if _, err := client.AddTemplate(ctx, ct); err != nil {
			return nil, fmt.Errorf("adding ConstraintTemplate %q: %w", ct.GetName(), err)
		}
	}
	return &Engine{client: client}, nil
}

// AddConstraint adds or replaces a constraint. The constraint is validated
// against its template's schema (including parameters) first.
func (e *Engine) AddConstraint(ctx context.Context, constraint *unstructured.Unstructured) error {
	if constraint == nil {
		return errors.New("adding constraint: nil object")
	}
	if _, err := e.client.AddConstraint(ctx, constraint); err != nil {
		return fmt.Errorf("adding constraint %s %q: %w", constraint.GetKind(), constraint.GetName(), err)
	}
	return nil
}

// AddNamespace makes a Namespace known to the engine. Constraints that select
// namespaces by label (match.namespaceSelector) only match objects whose
// Namespace was added; for unknown namespaces they fail closed and report a
// violation.
func (e *Engine) AddNamespace(ctx context.Context, ns *corev1.Namespace) error {
	if ns == nil {
		return errors.New("adding namespace: nil object")
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ns)
	if err != nil {
		return fmt.Errorf("adding namespace %q: %w", ns.Name, err)
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	return e.AddObject(ctx, u)
}

// AddObject adds a cluster object to the engine's inventory
// (data.inventory for referential templates). Namespace objects also become
// available to namespaceSelector matching.
func (e *Engine) AddObject(ctx context.Context, obj *unstructured.Unstructured) error {
	if obj == nil {
		return errors.New("adding object: nil object")
	}
	if _, err := e.client.AddData(ctx, obj); err != nil {
		return fmt.Errorf("adding %s %q: %w", obj.GroupVersionKind(), objectKey(obj), err)
	}
	return nil
}

// Review evaluates obj against every constraint and returns the violations,
// sorted by constraint kind, constraint name and message. An object that no
// constraint matches has no violations.
func (e *Engine) Review(ctx context.Context, obj *unstructured.Unstructured) ([]Violation, error) {
	if obj == nil {
		return nil, errors.New("reviewing: nil object")
	}
	review := target.AugmentedUnstructured{
		Object: *obj.DeepCopy(),
		Source: types.SourceTypeOriginal,
	}
	resp, err := e.client.Review(ctx, review, reviews.EnforcementPoint(enforcementPoint))
	if err != nil {
		return nil, fmt.Errorf("reviewing %s %q: %w", obj.GroupVersionKind(), objectKey(obj), err)
	}

	var out []Violation
	for _, r := range resp.Results() {
		v := Violation{Message: r.Msg, EnforcementAction: r.EnforcementAction}
		if r.Constraint != nil {
			v.Constraint = r.Constraint.GetName()
			v.Kind = r.Constraint.GetKind()
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Constraint != b.Constraint {
			return a.Constraint < b.Constraint
		}
		return a.Message < b.Message
	})
	return out, nil
}

// objectKey returns namespace/name, or name for cluster-scoped objects.
func objectKey(obj *unstructured.Unstructured) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}
