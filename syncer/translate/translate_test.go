package translate

import (
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var tr = Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}

func TestObjectMeta(t *testing.T) {
	origin := func(extra map[string]string) map[string]string {
		out := map[string]string{AnnotationName: "nginx", AnnotationNamespace: "web", AnnotationUID: "u1", AnnotationKind: "Pod",
			AnnotationManagedLabels: "", AnnotationManagedAnnotations: ""}
		maps.Copy(out, extra)
		return out
	}
	tests := []struct {
		name            string
		labels, annots  map[string]string
		wantLabels      map[string]string
		wantAnnotations map[string]string
		wantErr         string
	}{
		{name: "no labels", wantLabels: map[string]string{LabelManagedBy: "team-a", LabelNamespace: "web"}, wantAnnotations: origin(nil)},
		{name: "labels copied, annotations allow-listed", labels: map[string]string{"app": "x", "app.kubernetes.io/name": "n"},
			annots: map[string]string{"a": "b", "kubectl.kubernetes.io/last-applied-configuration": "{}", "prometheus.io/port": "9090",
				"k8s.v1.cni.cncf.io/networks": "host", "sidecar.istio.io/inject": "true", "vcluster.tenantry.dev/object-uid": "forged",
				"example.com/x": "y"},
			wantLabels: map[string]string{"app": "x", "app.kubernetes.io/name": "n", LabelManagedBy: "team-a", LabelNamespace: "web"},
			wantAnnotations: origin(map[string]string{"a": "b", "prometheus.io/port": "9090",
				AnnotationManagedLabels: "app,app.kubernetes.io/name", AnnotationManagedAnnotations: "a,prometheus.io/port"})},
		{name: "the syncer's own label is refused", labels: map[string]string{"app": "x", LabelManagedBy: "team-b"},
			wantErr: `metadata.labels["vcluster.tenantry.dev/managed-by"] is not allowed: the tenantry.dev domain is reserved for the platform`},
		{name: "the control-plane label is refused", labels: map[string]string{LabelControlPlane: "team-a"},
			wantErr: `metadata.labels["vcluster.tenantry.dev/control-plane"] is not allowed`},
		{name: "the bare reserved domain is refused", labels: map[string]string{"tenantry.dev/tenant": "team-b"},
			wantErr: `metadata.labels["tenantry.dev/tenant"] is not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nginx", Namespace: "web", UID: "u1", Labels: tt.labels, Annotations: tt.annots}}
			m, err := tr.ObjectMeta(v, "Pod")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsRefused(err) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != "nginx-x-web-x-team-a" || m.Namespace != "tenant-team-a" {
				t.Errorf("key %s/%s", m.Namespace, m.Name)
			}
			if !maps.Equal(m.Labels, tt.wantLabels) || !maps.Equal(m.Annotations, tt.wantAnnotations) {
				t.Errorf("labels %v annotations %v", m.Labels, m.Annotations)
			}
			key, ok := tr.Origin(&corev1.Pod{ObjectMeta: m})
			if !ok || key.Name != "nginx" || key.Namespace != "web" {
				t.Errorf("origin %v %v", key, ok)
			}
		})
	}
}

// TestMergeMeta: an update changes only the keys the syncer owns; keys added on the host
// (CNI, mesh, webhooks) stay, tenant keys the syncer copied before and the tenant removed go.
func TestMergeMeta(t *testing.T) {
	v := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nginx", Namespace: "web", UID: "u1",
		Labels: map[string]string{"app": "x", "tier": "fe"}, Annotations: map[string]string{"a": "1", "b": "2"}}}
	first, err := tr.ObjectMeta(v, "Pod")
	if err != nil {
		t.Fatal(err)
	}
	host := *first.DeepCopy()
	host.Annotations["k8s.v1.cni.cncf.io/network-status"] = "[]"
	host.Labels["security.istio.io/tlsMode"] = "istio"
	if MergeMeta(&host, first) {
		t.Error("no change reported as a change")
	}
	v.Labels = map[string]string{"app": "y"}
	v.Annotations = map[string]string{"a": "3"}
	second, err := tr.ObjectMeta(v, "Pod")
	if err != nil {
		t.Fatal(err)
	}
	if !MergeMeta(&host, second) {
		t.Fatal("a change not reported")
	}
	wantL := map[string]string{"app": "y", "security.istio.io/tlsMode": "istio", LabelManagedBy: "team-a", LabelNamespace: "web"}
	if !maps.Equal(host.Labels, wantL) {
		t.Errorf("labels %v, want %v", host.Labels, wantL)
	}
	if host.Annotations["a"] != "3" || host.Annotations["b"] != "" || host.Annotations["k8s.v1.cni.cncf.io/network-status"] != "[]" ||
		host.Annotations[AnnotationManagedAnnotations] != "a" {
		t.Errorf("annotations %v", host.Annotations)
	}
}

func TestDisableChecksCopiesRaw(t *testing.T) {
	raw := tr
	raw.DisableChecks = true
	v := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nginx", Namespace: "web", Labels: map[string]string{LabelControlPlane: "x"},
		Annotations: map[string]string{"nginx.ingress.kubernetes.io/server-snippet": "x"}}}
	m, err := raw.ObjectMeta(v, "Pod")
	if err != nil || m.Labels[LabelControlPlane] != "x" || m.Annotations["nginx.ingress.kubernetes.io/server-snippet"] != "x" {
		t.Errorf("raw meta %v, %v", m, err)
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
