package guards_test

import (
	"context"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"

	"github.com/tenantry/tenantry/policy/guards"
)

// compiled is one guard policy compiled the way kube-apiserver's admission plugin does
// (k8s.io/apiserver validating.compilePolicy, which is not exported).
type compiled struct {
	policy    *admissionv1.ValidatingAdmissionPolicy
	validator validating.Validator
}

// compileAll compiles every guard policy, failing the test on any expression that does not compile.
func compileAll(t *testing.T) []compiled {
	t.Helper()
	objs, err := guards.Objects()
	if err != nil {
		t.Fatal(err)
	}
	var out []compiled
	for _, o := range objs {
		if o.GetKind() != guards.PolicyKind {
			continue
		}
		p := &admissionv1.ValidatingAdmissionPolicy{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, p); err != nil {
			t.Fatalf("%s: %v", o.GetName(), err)
		}
		out = append(out, compiled{policy: p, validator: compile(t, p)})
	}
	return out
}

func compile(t *testing.T, p *admissionv1.ValidatingAdmissionPolicy) validating.Validator {
	t.Helper()
	env := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
	cc, err := plugincel.NewCompositedCompiler(env)
	if err != nil {
		t.Fatal(err)
	}
	vars := plugincel.OptionalVariableDeclarations{HasAuthorizer: true}
	mode := environment.StoredExpressions
	for _, v := range p.Spec.Variables {
		if r := cc.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, vars, mode); r.Error != nil {
			t.Errorf("%s: variable %s: %v", p.Name, v.Name, r.Error)
		}
	}
	var conds, msgs []plugincel.ExpressionAccessor
	for _, v := range p.Spec.Validations {
		c := &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		conds = append(conds, c)
		checkCompiles(t, cc, p.Name, c, vars)
		var m plugincel.ExpressionAccessor
		if v.MessageExpression != "" {
			mc := &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
			checkCompiles(t, cc, p.Name, mc, plugincel.OptionalVariableDeclarations{})
			m = mc
		}
		msgs = append(msgs, m)
	}
	var matchers []plugincel.ExpressionAccessor
	for i := range p.Spec.MatchConditions {
		mc := (*matchconditions.MatchCondition)(&p.Spec.MatchConditions[i])
		checkCompiles(t, cc, p.Name, mc, vars)
		matchers = append(matchers, mc)
	}
	matcher := matchconditions.NewMatcher(cc.CompileCondition(matchers, vars, mode), p.Spec.FailurePolicy, "policy", "validate", p.Name)
	return validating.NewValidator(cc.CompileCondition(conds, vars, mode), matcher, cc.CompileCondition(nil, vars, mode),
		cc.CompileCondition(msgs, plugincel.OptionalVariableDeclarations{}, mode), p.Spec.FailurePolicy, nil)
}

func checkCompiles(t *testing.T, cc *plugincel.CompositedCompiler, policy string, e plugincel.ExpressionAccessor, vars plugincel.OptionalVariableDeclarations) {
	t.Helper()
	if r := cc.CompileCELExpression(e, vars, environment.StoredExpressions); r.Error != nil {
		t.Errorf("%s: %q: %v", policy, e.GetExpression(), r.Error)
	}
}

// request is one admission request against a tenant namespace.
type request struct {
	resource  schema.GroupVersionResource
	sub       string
	op        admission.Operation
	user      string
	object    map[string]any
	oldObject map[string]any
}

// evaluate runs every guard matching the request and returns the denial messages.
func evaluate(t *testing.T, guards []compiled, ns *corev1.Namespace, r request) []string {
	t.Helper()
	var obj, old runtime.Object
	name := ""
	if r.object != nil {
		u := &unstructured.Unstructured{Object: r.object}
		obj, name = u, u.GetName()
	}
	if r.oldObject != nil {
		u := &unstructured.Unstructured{Object: r.oldObject}
		old, name = u, u.GetName()
	}
	kind := schema.GroupVersionKind{Group: r.resource.Group, Version: r.resource.Version}
	attr := admission.NewAttributesRecord(obj, old, kind, ns.Name, name, r.resource, r.sub, r.op, nil, false,
		&user.DefaultInfo{Name: r.user})
	va := &admission.VersionedAttributes{Attributes: attr, VersionedKind: kind, VersionedObject: admission.NewLazyObject(obj), VersionedOldObject: admission.NewLazyObject(old)}
	var denials []string
	for _, g := range guards {
		if !matches(g.policy, r) {
			continue
		}
		res := g.validator.Validate(context.Background(), r.resource, va, nil, ns, celconfig.RuntimeCELCostBudget, nil)
		for _, d := range res.Decisions {
			if d.Action == validating.ActionDeny {
				denials = append(denials, g.policy.Name+": "+d.Message)
			}
		}
	}
	return denials
}

// matches is the policy's matchConstraints.resourceRules (the binding's namespace
// selector is the namespace the test passes).
func matches(p *admissionv1.ValidatingAdmissionPolicy, r request) bool {
	res := r.resource.Resource
	if r.sub != "" {
		res += "/" + r.sub
	}
	for _, rule := range p.Spec.MatchConstraints.ResourceRules {
		if in(rule.APIGroups, r.resource.Group) && in(rule.Resources, res) && inOp(rule.Operations, r.op) {
			return true
		}
	}
	return false
}

func in(list []string, s string) bool {
	for _, x := range list {
		if x == s || (x == "*" && !strings.Contains(s, "/")) {
			return true
		}
	}
	return false
}

func inOp(ops []admissionv1.OperationType, op admission.Operation) bool {
	for _, o := range ops {
		if string(o) == string(op) || o == admissionv1.OperationAll {
			return true
		}
	}
	return false
}

// tenantNamespace is a namespace as the agent renders it, with annotations.
func tenantNamespace(tenant string, annotations map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenant-" + tenant, Annotations: annotations,
		Labels: map[string]string{"app.kubernetes.io/managed-by": "tenantry", "tenantry.dev/tenant": tenant}}}
}
