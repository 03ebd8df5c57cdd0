package bench

import (
	"fmt"
	"sort"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/charts"
)

// vclusterChange is one value the benchmark sets in vcluster's chart, away from its
// default, and why. bench/README.md lists the same.
type vclusterChange struct {
	path  []string
	value any
	why   string
}

// vclusterChanges are every default of vcluster's chart the benchmark changes; everything
// else (sync settings, resources, probes, the k8s distro on embedded SQLite) is the chart's.
var vclusterChanges = []vclusterChange{
	{[]string{"controlPlane", "statefulSet", "image"}, imageValue(),
		"the node has no registry: the image built here (vcluster binary, the pinned kube-apiserver and kube-controller-manager, kine)"},
	{[]string{"controlPlane", "distro", "k8s", "image"}, imageValue(),
		"the init container copies kube-apiserver and kube-controller-manager " + vclusterKube + " from the same image, as tenantry runs them"},
	{[]string{"controlPlane", "distro", "k8s", "controllerManager", "extraArgs"}, []any{vclusterKCMControllers},
		"vcluster " + vclusterVersion + " (made for Kubernetes up to 1.34) disables the controller cloud-node-lifecycle, which kube-controller-manager 1.37 no longer knows and refuses to start over; this is its own --controllers list without that entry (vcluster merges extraArgs over its flags)"},
	{[]string{"controlPlane", "statefulSet", "persistence", "volumeClaim", "enabled"}, false,
		"data on an emptyDir, as the bench's tenantry tenant (persistence.size 0), so neither waits for a volume; without a claim the chart runs a Deployment, not a StatefulSet"},
	{[]string{"controlPlane", "statefulSet", "resources", "limits", "ephemeral-storage"}, nil,
		"the test bed's kubelet runs with localStorageCapacityIsolation off and reports no ephemeral-storage, so a pod asking for it is never scheduled (null removes the key; cpu and memory stay the chart's)"},
	{[]string{"controlPlane", "statefulSet", "resources", "requests", "ephemeral-storage"}, nil, "as above"},
	{[]string{"telemetry", "enabled"}, false, "no network here; telemetry is not part of the work measured"},
}

// vclusterKCMControllers is vcluster's own --controllers for the k8s distro without a
// virtual scheduler (pkg/k8s/k8s.go), less -cloud-node-lifecycle.
const vclusterKCMControllers = "--controllers=*,-nodeipam,-nodelifecycle,-persistentvolume-binder,-attachdetach,-persistentvolume-expander,-ttl"

func imageValue() map[string]any {
	return map[string]any{"registry": "", "repository": vclusterImageRepo, "tag": vclusterVersion}
}

// vclusterValues are the chart values the benchmark passes: only vclusterChanges.
func vclusterValues() map[string]any {
	vals := map[string]any{}
	for _, c := range vclusterChanges {
		m := vals
		for _, k := range c.path[:len(c.path)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[c.path[len(c.path)-1]] = c.value
	}
	return vals
}

// renderVCluster renders vcluster's own chart (from the peer's component dir) with the
// Helm SDK, client-side, as release name in namespace, and returns its objects as `helm
// install` would create them: in Helm's install order, with Helm's ownership metadata.
func renderVCluster(chartDir, name, namespace string) ([]*unstructured.Unstructured, error) {
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		return nil, fmt.Errorf("loading vcluster's chart: %w", err)
	}
	objs, err := charts.RenderChart(ch, charts.Release{Name: name, Namespace: namespace}, vclusterValues())
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		asHelmInstalls(o, name, namespace)
	}
	sortInstallOrder(objs)
	return objs, nil
}

// asHelmInstalls adds the metadata `helm install` puts on every object it creates.
// vcluster relies on it: `vcluster start` writes an annotation into its Service's
// annotations map, which is nil (a panic) when the Service has none.
func asHelmInstalls(o *unstructured.Unstructured, release, namespace string) {
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels["app.kubernetes.io/managed-by"] = "Helm"
	o.SetLabels(labels)
	annotations := o.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations["meta.helm.sh/release-name"] = release
	annotations["meta.helm.sh/release-namespace"] = namespace
	o.SetAnnotations(annotations)
}

// sortInstallOrder orders objects by kind as Helm installs them (ServiceAccounts and
// Secrets before the Deployment that uses them), unknown kinds last.
func sortInstallOrder(objs []*unstructured.Unstructured) {
	rank := map[string]int{}
	for i, kind := range releaseutil.InstallOrder {
		rank[kind] = i + 1
	}
	at := func(o *unstructured.Unstructured) int {
		if r, ok := rank[o.GetKind()]; ok {
			return r
		}
		return len(rank) + 1
	}
	sort.SliceStable(objs, func(i, j int) bool { return at(objs[i]) < at(objs[j]) })
}
