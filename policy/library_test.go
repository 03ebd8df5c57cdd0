package policy

import (
	"context"
	"errors"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestLibrary(t *testing.T) {
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, u := range lib {
		kinds = append(kinds, templateKind(u))
	}
	want := []string{
		"K8sAllowedIngressHosts",
		"K8sAllowedRepos",
		"K8sBlockLoadBalancer",
		"K8sBlockNodePort",
		"K8sContainerLimits",
		"K8sHostPaths",
		"K8sNoHostNamespaces",
		"K8sNoPrivileged",
		"K8sRequiredLabels",
	}
	if !slices.Equal(kinds, want) {
		t.Fatalf("Library() kinds = %v, want %v", kinds, want)
	}

	for _, u := range lib {
		ct, err := toVersionless(u)
		if err != nil {
			t.Fatal(err)
		}
		if v := ct.Spec.CRD.Spec.Validation; v == nil || v.OpenAPIV3Schema == nil {
			t.Errorf("%s declares no parameters openAPIV3Schema", templateKind(u))
		}
		if len(ct.Spec.Targets) != 1 || ct.Spec.Targets[0].Target != "admission.k8s.gatekeeper.sh" {
			t.Errorf("%s: want exactly the admission.k8s.gatekeeper.sh target", templateKind(u))
		}
	}

	// The whole library compiles together in one engine.
	if _, err := NewEngine(context.Background(), lib); err != nil {
		t.Fatal(err)
	}
}

func TestLibraryReturnsCopies(t *testing.T) {
	a, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	a[0].SetName("mutated")
	b, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	if b[0].GetName() == "mutated" {
		t.Fatal("Library() returned shared objects")
	}
}

func TestNewEngineRejectsDuplicateKinds(t *testing.T) {
	tmpl := libraryTemplate(t, "K8sBlockNodePort")
	_, err := NewEngine(context.Background(), []*unstructured.Unstructured{tmpl, tmpl.DeepCopy()})
	if !errors.Is(err, errDuplicateKind) {
		t.Fatalf("NewEngine() error = %v, want %v", err, errDuplicateKind)
	}
}

func TestNewEngineRejectsBadRego(t *testing.T) {
	tmpl := libraryTemplate(t, "K8sBlockNodePort")
	targets, _, _ := unstructured.NestedSlice(tmpl.Object, "spec", "targets")
	target := targets[0].(map[string]any)
	target["rego"] = "package k8sblocknodeport\n\nviolation[{\"msg\": msg}] {\n  msg := undefined_thing\n}\n"
	if err := unstructured.SetNestedSlice(tmpl.Object, targets, "spec", "targets"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewEngine(context.Background(), []*unstructured.Unstructured{tmpl}); err == nil {
		t.Fatal("NewEngine() accepted a template whose Rego does not compile")
	}
}
