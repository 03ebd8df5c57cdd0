package policy

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// libraryTemplate returns the library template defining kind.
func libraryTemplate(t *testing.T, kind string) *unstructured.Unstructured {
	t.Helper()
	lib, err := Library()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range lib {
		if templateKind(u) == kind {
			return u
		}
	}
	t.Fatalf("library has no template for kind %s", kind)
	return nil
}

// newLibraryEngine returns an Engine with the library template for kind and
// the given constraints.
func newLibraryEngine(t *testing.T, kind string, constraints ...*unstructured.Unstructured) *Engine {
	t.Helper()
	ctx := context.Background()
	e, err := NewEngine(ctx, []*unstructured.Unstructured{libraryTemplate(t, kind)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range constraints {
		if err := e.AddConstraint(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// mustObject parses a single-object YAML document.
func mustObject(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	objs, err := DecodeObjects([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("got %d objects, want 1", len(objs))
	}
	return objs[0]
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func review(t *testing.T, e *Engine, obj *unstructured.Unstructured) []Violation {
	t.Helper()
	vs, err := e.Review(context.Background(), obj)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}
