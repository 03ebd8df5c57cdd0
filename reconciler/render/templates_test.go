package render

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/reconciler/loader"
)

func TestTemplatesByKindReadsEveryDocumentAndOverridesTheLibrary(t *testing.T) {
	lib := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"crd": map[string]any{
		"spec": map[string]any{"names": map[string]any{"kind": "K8sA"}}}}}}
	lib.SetName("library-a")
	doc := loader.Document{Path: "policies/two.yaml", Data: []byte(`apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: repo-a}
spec: {crd: {spec: {names: {kind: K8sA}}}}
---
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: repo-b}
spec: {crd: {spec: {names: {kind: K8sB}}}}
`)}
	got, err := TemplatesByKind([]*unstructured.Unstructured{lib}, []loader.Document{doc})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["K8sA"].GetName() != "repo-a" || got["K8sB"].GetName() != "repo-b" {
		t.Fatalf("templates: %v", got)
	}
	if _, err := TemplatesByKind(nil, []loader.Document{{Path: "policies/bad.yaml", Data: []byte("a: [")}}); err == nil {
		t.Fatal("a broken policies file was accepted")
	}
}
