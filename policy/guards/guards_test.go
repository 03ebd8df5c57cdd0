package guards_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/policy/guards"
)

const nsSA = "system:serviceaccount:tenant-team-a:vc-team-a"

func TestEveryPolicyHasABinding(t *testing.T) {
	objs, err := guards.Objects()
	if err != nil {
		t.Fatal(err)
	}
	policies, bindings := map[string]*unstructured.Unstructured{}, map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if !strings.HasPrefix(o.GetName(), "tenantry-guard-") {
			t.Errorf("%s %s: names start with tenantry-guard-", o.GetKind(), o.GetName())
		}
		if o.GetKind() == guards.PolicyKind {
			policies[o.GetName()] = o
		} else {
			bindings[o.GetName()] = o
		}
	}
	if len(policies) < 9 || len(policies) != len(bindings) {
		t.Fatalf("%d policies, %d bindings", len(policies), len(bindings))
	}
	for name, p := range policies {
		checkPolicy(t, p)
		b, ok := bindings[name]
		if !ok {
			t.Errorf("policy %s has no binding of the same name", name)
			continue
		}
		checkBinding(t, b, name)
	}
	var want []string
	for name := range policies {
		want = append(want, name)
	}
	slices.Sort(want)
	if got := guards.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func checkPolicy(t *testing.T, p *unstructured.Unstructured) {
	t.Helper()
	if fp, _, _ := unstructured.NestedString(p.Object, "spec", "failurePolicy"); fp != "Fail" {
		t.Errorf("%s: failurePolicy %q, want Fail", p.GetName(), fp)
	}
	conds, _, _ := unstructured.NestedSlice(p.Object, "spec", "matchConditions")
	want := "request.userInfo.username.startsWith('system:serviceaccount:' + request.namespace + ':')"
	if len(conds) != 1 || conds[0].(map[string]any)["expression"] != want {
		t.Errorf("%s: matchConditions %v, want only the namespace's service accounts", p.GetName(), conds)
	}
	if v, _, _ := unstructured.NestedSlice(p.Object, "spec", "validations"); len(v) == 0 {
		t.Errorf("%s: no validations", p.GetName())
	}
}

func checkBinding(t *testing.T, b *unstructured.Unstructured, policy string) {
	t.Helper()
	if got, _, _ := unstructured.NestedString(b.Object, "spec", "policyName"); got != policy {
		t.Errorf("binding %s: policyName %q", b.GetName(), got)
	}
	if got, _, _ := unstructured.NestedStringSlice(b.Object, "spec", "validationActions"); !slices.Equal(got, []string{"Deny"}) {
		t.Errorf("binding %s: validationActions %v, want [Deny]", b.GetName(), got)
	}
	sel, _, _ := unstructured.NestedStringMap(b.Object, "spec", "matchResources", "namespaceSelector", "matchLabels")
	exprs, _, _ := unstructured.NestedSlice(b.Object, "spec", "matchResources", "namespaceSelector", "matchExpressions")
	if sel["app.kubernetes.io/managed-by"] != "tenantry" || len(exprs) != 1 || exprs[0].(map[string]any)["key"] != "tenantry.dev/tenant" {
		t.Errorf("binding %s: namespaceSelector %v %v, want tenantry's tenant namespaces", b.GetName(), sel, exprs)
	}
}

func TestPoliciesCompile(t *testing.T) {
	if got := len(compileAll(t)); got != len(guards.Names()) {
		t.Fatalf("compiled %d policies, want %d", got, len(guards.Names()))
	}
}

func TestEncodeTolerations(t *testing.T) {
	got := guards.EncodeTolerations([]corev1.Toleration{
		{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "tenants", Effect: corev1.TaintEffectNoSchedule},
		{Key: "gpu", Operator: corev1.TolerationOpExists},
		{Key: "zone", Value: "a"}, // the API's default operator is Equal
		{Key: "spot", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	})
	if want := "dedicated=tenants:NoSchedule,gpu,zone=a,spot:NoExecute"; got != want {
		t.Fatalf("EncodeTolerations = %q, want %q", got, want)
	}
}
