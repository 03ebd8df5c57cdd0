package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const nodePortServiceFmt = `
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: %s
spec:
  type: NodePort
  ports:
    - port: 80
`

func nodePortService(t *testing.T, ns string) *unstructured.Unstructured {
	t.Helper()
	return mustObject(t, fmt.Sprintf(nodePortServiceFmt, ns))
}

func TestEngineNamespaceScoping(t *testing.T) {
	ctx := context.Background()
	constraint := mustObject(t, `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBlockNodePort
metadata:
  name: team-a-no-nodeport
spec:
  enforcementAction: warn
  match:
    scope: Namespaced
    namespaces: ["team-a"]
    kinds:
      - apiGroups: [""]
        kinds: ["Service"]
`)
	e := newLibraryEngine(t, "K8sBlockNodePort", constraint)
	for _, ns := range []string{"team-a", "team-b"} {
		if err := e.AddNamespace(ctx, namespace(ns, nil)); err != nil {
			t.Fatal(err)
		}
	}

	got := review(t, e, nodePortService(t, "team-a"))
	want := []Violation{{
		Constraint:        "team-a-no-nodeport",
		Kind:              "K8sBlockNodePort",
		Message:           "Service <web>: type NodePort is not allowed",
		EnforcementAction: "warn",
	}}
	if !slices.Equal(got, want) {
		t.Errorf("team-a: Review() = %+v, want %+v", got, want)
	}

	if got := review(t, e, nodePortService(t, "team-b")); len(got) != 0 {
		t.Errorf("team-b: Review() = %+v, want no violations", got)
	}

	// A cluster-scoped object never matches scope: Namespaced.
	clusterScoped := nodePortService(t, "")
	if got := review(t, e, clusterScoped); len(got) != 0 {
		t.Errorf("cluster-scoped: Review() = %+v, want no violations", got)
	}
}

func TestEngineNamespaceSelector(t *testing.T) {
	ctx := context.Background()
	constraint := mustObject(t, `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBlockNodePort
metadata:
  name: tenants-no-nodeport
spec:
  match:
    namespaceSelector:
      matchLabels:
        tenantry.io/tenant: "true"
    kinds:
      - apiGroups: [""]
        kinds: ["Service"]
`)
	e := newLibraryEngine(t, "K8sBlockNodePort", constraint)
	if err := e.AddNamespace(ctx, namespace("team-a", map[string]string{"tenantry.io/tenant": "true"})); err != nil {
		t.Fatal(err)
	}
	if err := e.AddNamespace(ctx, namespace("kube-system", nil)); err != nil {
		t.Fatal(err)
	}

	got := review(t, e, nodePortService(t, "team-a"))
	if len(got) != 1 || got[0].EnforcementAction != "deny" || got[0].Constraint != "tenants-no-nodeport" {
		t.Errorf("labelled namespace: Review() = %+v, want one deny violation of tenants-no-nodeport", got)
	}
	if got := review(t, e, nodePortService(t, "kube-system")); len(got) != 0 {
		t.Errorf("unlabelled namespace: Review() = %+v, want no violations", got)
	}

	// Unknown namespace: the selector cannot be evaluated and Gatekeeper
	// fails closed with an autorejection.
	got = review(t, e, nodePortService(t, "unknown"))
	if len(got) != 1 || !strings.Contains(got[0].Message, "unable to match constraints") {
		t.Errorf("unknown namespace: Review() = %+v, want one autorejection", got)
	}
}

func TestEngineMultipleConstraintsSorted(t *testing.T) {
	ctx := context.Background()
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(ctx, lib)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{`
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: tenant-label
spec:
  parameters:
    labels:
      - key: tenantry.io/tenant
`, `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBlockNodePort
metadata:
  name: b-no-nodeport
`, `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sBlockNodePort
metadata:
  name: a-no-nodeport
`} {
		if err := e.AddConstraint(ctx, mustObject(t, doc)); err != nil {
			t.Fatal(err)
		}
	}
	got := review(t, e, nodePortService(t, "team-a"))
	var ids []string
	for _, v := range got {
		ids = append(ids, v.Kind+"/"+v.Constraint)
	}
	want := []string{"K8sBlockNodePort/a-no-nodeport", "K8sBlockNodePort/b-no-nodeport", "K8sRequiredLabels/tenant-label"}
	if !slices.Equal(ids, want) {
		t.Errorf("Review() violations = %v, want %v", ids, want)
	}
}

func TestEngineAddConstraintValidatesParameters(t *testing.T) {
	e := newLibraryEngine(t, "K8sAllowedRepos")
	err := e.AddConstraint(context.Background(), mustObject(t, `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sAllowedRepos
metadata:
  name: bad
spec:
  parameters:
    repos: "registry.example.com/"
`))
	if err == nil {
		t.Fatal("AddConstraint() accepted repos of type string")
	}
	err = e.AddConstraint(context.Background(), mustObject(t, `
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sUnknown
metadata:
  name: orphan
`))
	if err == nil {
		t.Fatal("AddConstraint() accepted a constraint without template")
	}
}
