package translate

import (
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

var tr = Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}

func TestObjectMeta(t *testing.T) {
	tests := []struct {
		name            string
		labels, annots  map[string]string
		wantLabels      map[string]string
		wantAnnotations map[string]string
	}{
		{name: "no labels", wantLabels: map[string]string{LabelManagedBy: "team-a", LabelNamespace: "web"},
			wantAnnotations: map[string]string{AnnotationName: "nginx", AnnotationNamespace: "web", AnnotationUID: "u1", AnnotationKind: "Pod"}},
		{name: "labels copied, syncer labels win", labels: map[string]string{"app": "x", LabelManagedBy: "team-b"},
			annots:          map[string]string{"a": "b", "kubectl.kubernetes.io/last-applied-configuration": "{}"},
			wantLabels:      map[string]string{"app": "x", LabelManagedBy: "team-a", LabelNamespace: "web"},
			wantAnnotations: map[string]string{"a": "b", AnnotationName: "nginx", AnnotationNamespace: "web", AnnotationUID: "u1", AnnotationKind: "Pod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nginx", Namespace: "web", UID: "u1", Labels: tt.labels, Annotations: tt.annots}}
			m := tr.ObjectMeta(v, "Pod")
			if m.Name != "nginx-x-web-x-team-a" || m.Namespace != "tenant-team-a" {
				t.Errorf("key %s/%s", m.Namespace, m.Name)
			}
			if !maps.Equal(m.Labels, tt.wantLabels) || !maps.Equal(m.Annotations, tt.wantAnnotations) {
				t.Errorf("labels %v annotations %v", m.Labels, m.Annotations)
			}
			if tt.labels != nil && tt.labels[LabelManagedBy] != "team-b" {
				t.Error("the virtual object's labels were modified")
			}
			key, ok := tr.Origin(&corev1.Pod{ObjectMeta: m})
			if !ok || key.Name != "nginx" || key.Namespace != "web" {
				t.Errorf("origin %v %v", key, ok)
			}
		})
	}
}

func TestManagedAndOrigin(t *testing.T) {
	tests := []struct {
		name   string
		ns     string
		labels map[string]string
		want   bool
	}{
		{name: "ours", ns: "tenant-team-a", labels: map[string]string{LabelManagedBy: "team-a"}, want: true},
		{name: "another vcluster", ns: "tenant-team-a", labels: map[string]string{LabelManagedBy: "team-b"}},
		{name: "no label", ns: "tenant-team-a"},
		{name: "other namespace", ns: "tenant-team-b", labels: map[string]string{LabelManagedBy: "team-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: tt.ns, Labels: tt.labels,
				Annotations: map[string]string{AnnotationName: "n", AnnotationNamespace: "ns"}}}
			if got := tr.Managed(obj); got != tt.want {
				t.Errorf("Managed = %v, want %v", got, tt.want)
			}
			if _, ok := tr.Origin(obj); ok != tt.want {
				t.Errorf("Origin ok = %v, want %v", ok, tt.want)
			}
		})
	}
}

func TestSelector(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want map[string]string
	}{
		{name: "nil stays nil (selector-less service)"},
		{name: "narrowed", in: map[string]string{"app": "web"},
			want: map[string]string{"app": "web", LabelManagedBy: "team-a", LabelNamespace: "shop"}},
		{name: "cannot widen", in: map[string]string{LabelNamespace: "other"},
			want: map[string]string{LabelManagedBy: "team-a", LabelNamespace: "shop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tr.Selector(tt.in, "shop"); !maps.Equal(got, tt.want) || (tt.want == nil) != (got == nil) {
				t.Errorf("Selector = %v, want %v", got, tt.want)
			}
			ls := tr.LabelSelector(&metav1.LabelSelector{MatchLabels: tt.in}, "shop")
			if ls.MatchLabels[LabelNamespace] != "shop" || ls.MatchLabels[LabelManagedBy] != "team-a" {
				t.Errorf("LabelSelector = %v", ls)
			}
		})
	}
}

func TestHostNameValidAndStable(t *testing.T) {
	tests := []struct{ name, ns string }{
		{name: "web", ns: "default"},
		{name: strings.Repeat("p", 60), ns: "default"},
		{name: strings.Repeat("a", 63), ns: strings.Repeat("b", 63)},
		{name: "a.b.c", ns: "default"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := HostName(tt.name, tt.ns, "team-a")
		if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 || len(got) > 63 {
			t.Errorf("HostName(%q, %q) = %q: %v", tt.name, tt.ns, got, errs)
		}
		if got != HostName(tt.name, tt.ns, "team-a") || seen[got] {
			t.Errorf("HostName(%q, %q) = %q is not stable or collides", tt.name, tt.ns, got)
		}
		seen[got] = true
	}
}
