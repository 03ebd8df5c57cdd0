package charts_test

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/charts"
	"github.com/tenantry/tenantry/reconciler/render"
)

func tenant(mutate func(*v1alpha1.Tenant)) *v1alpha1.Tenant {
	t := &v1alpha1.Tenant{}
	t.Name = "team-x"
	t.Spec.KubernetesVersion = "1.36"
	t.Spec.Owners = []v1alpha1.Subject{{Kind: "Group", Name: "team-x-admins"}}
	if mutate != nil {
		mutate(t)
	}
	return t
}

func renderTenant(t *testing.T, tn *v1alpha1.Tenant) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render.VCluster(tn, render.VClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return nil
}

func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind())
	}
	return out
}

func TestStatefulSetReplicasFollowPaused(t *testing.T) {
	for _, tc := range []struct {
		paused bool
		want   int64
	}{{false, 1}, {true, 0}} {
		objs := renderTenant(t, tenant(func(tn *v1alpha1.Tenant) { tn.Spec.Paused = tc.paused }))
		got, _, _ := unstructured.NestedInt64(find(objs, "StatefulSet").Object, "spec", "replicas")
		if got != tc.want {
			t.Errorf("paused=%v: replicas %d, want %d", tc.paused, got, tc.want)
		}
	}
}

func TestDataVolumeFollowsPersistence(t *testing.T) {
	zero, big := resource.MustParse("0"), resource.MustParse("20Gi")
	for _, tc := range []struct {
		name         string
		size         *resource.Quantity
		wantEmptyDir bool
		wantSize     string
	}{
		{"default size", nil, false, "5Gi"},
		{"explicit size", &big, false, "20Gi"},
		{"off", &zero, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sts := find(renderTenant(t, tenant(func(tn *v1alpha1.Tenant) { tn.Spec.Persistence.Size = tc.size })), "StatefulSet")
			vols, _, _ := unstructured.NestedSlice(sts.Object, "spec", "template", "spec", "volumes")
			emptyDir := false
			for _, v := range vols {
				m := v.(map[string]any)
				if m["name"] == "data" && m["emptyDir"] != nil {
					emptyDir = true
				}
			}
			claims, _, _ := unstructured.NestedSlice(sts.Object, "spec", "volumeClaimTemplates")
			if emptyDir != tc.wantEmptyDir || (len(claims) == 0) != tc.wantEmptyDir {
				t.Fatalf("data emptyDir %v, %d claim templates; want emptyDir %v", emptyDir, len(claims), tc.wantEmptyDir)
			}
			if !tc.wantEmptyDir {
				size, _, _ := unstructured.NestedString(claims[0].(map[string]any), "spec", "resources", "requests", "storage")
				if size != tc.wantSize {
					t.Fatalf("claim size %q, want %q", size, tc.wantSize)
				}
			}
		})
	}
}

// TestEveryRBACRuleSaysWhy parses the templates' text: each rule ("- apiGroups:") must be
// preceded by a comment block that contains "# why".
func TestEveryRBACRuleSaysWhy(t *testing.T) {
	rule := regexp.MustCompile(`^\s*- apiGroups:`)
	checked := 0
	err := fs.WalkDir(charts.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (path.Base(path.Dir(p)) != "templates" && path.Base(path.Dir(p)) != "clusterroles") {
			return err
		}
		data, err := fs.ReadFile(charts.FS(), p)
		if err != nil {
			return err
		}
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if !rule.MatchString(l) {
				continue
			}
			checked++
			if !commentAbove(lines, i) {
				t.Errorf("%s:%d: RBAC rule without a preceding \"# why\" comment", p, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d rules found in the templates", checked)
	}
}

// commentAbove reports whether the comment block right above line i (template actions
// skipped) holds "# why".
func commentAbove(lines []string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		l := strings.TrimSpace(lines[j])
		switch {
		case strings.HasPrefix(l, "{{"):
			continue
		case strings.HasPrefix(l, "# why"):
			return true
		case strings.HasPrefix(l, "#"):
			continue
		default:
			return false
		}
	}
	return false
}

func TestSchemaRejectsBadValues(t *testing.T) {
	for _, tc := range []struct {
		chart  string
		values string
		want   string
	}{
		{charts.VCluster, `expose: {type: Route}`, "/expose/type"},
		{charts.VCluster, `expose: {type: Ingress}`, "/expose"},
		{charts.VCluster, `persistence: {enabled: true, size: lots}`, "/persistence/size"},
		{charts.VCluster, `image: {repository: x, pullPolicy: Sometimes}`, "/image/pullPolicy"},
		{charts.VCluster, `name: Team_A`, "/name"},
		{charts.VCluster, `owners: [{kind: Robot, name: r2}]`, "/owners/0/kind"},
		{charts.VCluster, `sync: {pods: true}`, "pods"},
		{charts.VCluster, `replicas: 3`, "replicas"},
		{charts.Tenantry, `replicas: -1`, "/replicas"},
		{charts.Tenantry, `repo: {url: "not a url"}`, "/repo/url"},
		{charts.Tenantry, `repo: {url: "https://x/y", interval: soon}`, "/repo/interval"},
		{charts.Tenantry, `ingress: {enabled: true}`, "/ingress"},
		{charts.Tenantry, `gitCredentials: {data: {token: x}}`, "token"},
	} {
		t.Run(tc.chart+" "+tc.values, func(t *testing.T) {
			var values map[string]any
			if err := yaml.Unmarshal([]byte(tc.values), &values); err != nil {
				t.Fatal(err)
			}
			_, err := charts.Render(tc.chart, charts.Release{Name: "x", Namespace: "y"}, values)
			if err == nil {
				t.Fatal("bad values accepted")
			}
			if !strings.Contains(err.Error(), "values don't meet the specifications of the schema") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not name %q:\n%v", tc.want, err)
			}
		})
	}
}

func TestImageTagIsTheResolvedVersion(t *testing.T) {
	for _, tc := range []struct{ version, want string }{
		{"1.36", "registry.example.com/vc:v1.36.3"},
		{"v1.37", "registry.example.com/vc:v1.37.2"},
		{"", "registry.example.com/vc:" + v1alpha1.NewestKubernetesVersion()},
	} {
		objs, err := render.VCluster(tenant(func(tn *v1alpha1.Tenant) { tn.Spec.KubernetesVersion = tc.version }),
			render.VClusterOptions{ImageRepository: "registry.example.com/vc", PullPolicy: "Always"})
		if err != nil {
			t.Fatal(err)
		}
		containers, _, _ := unstructured.NestedSlice(find(objs, "StatefulSet").Object, "spec", "template", "spec", "containers")
		c := containers[0].(map[string]any)
		if c["image"] != tc.want || c["imagePullPolicy"] != "Always" {
			t.Errorf("version %q: image %v (%v), want %s (Always)", tc.version, c["image"], c["imagePullPolicy"], tc.want)
		}
	}
	if _, err := render.VCluster(tenant(func(tn *v1alpha1.Tenant) { tn.Spec.KubernetesVersion = "1.20" }), render.VClusterOptions{}); err == nil {
		t.Error("unsupported version rendered")
	}
}
