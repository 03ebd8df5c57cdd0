package guards_test

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"sigs.k8s.io/yaml"

	"github.com/tenantry/tenantry/syncer/pods"
)

var (
	podsGVR      = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	servicesGVR  = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	endpointsGVR = schema.GroupVersionResource{Version: "v1", Resource: "endpoints"}
	slicesGVR    = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
	secretsGVR   = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	pvcsGVR      = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	netpolsGVR   = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
	ingressesGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	quotasGVR    = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}
	configmapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// syncedPod is a pod as the syncer writes it (see syncer/pods/testdata/pod.golden.yaml).
const syncedPod = `
metadata:
  name: web-x-shop-x-team-a
  labels: {app: web, vcluster.tenantry.dev/managed-by: team-a, vcluster.tenantry.dev/namespace: shop}
  annotations: {vcluster.tenantry.dev/object-name: web, vcluster.tenantry.dev/object-namespace: shop}
spec:
  automountServiceAccountToken: false
  serviceAccountName: default
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 80}]
    securityContext: {capabilities: {add: [NET_BIND_SERVICE]}, seccompProfile: {type: RuntimeDefault}}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data-x-shop-x-team-a}}
  - {name: tokens, secret: {secretName: web-x-shop-x-team-a.token}}
  - name: mixed
    projected: {sources: [{configMap: {name: cm}}, {secret: {name: s}}, {downwardAPI: {items: []}}]}
`

// attack is one object a buggy syncer might write and the guard message expected.
type attack struct {
	name     string
	resource schema.GroupVersionResource
	op       admission.Operation
	ns       map[string]string // namespace annotations
	object   string            // YAML; for pods, a patch over syncedPod
	old      string
	want     string // substring of the denial; "" means admitted
}

func TestGuardsRefuseAttacks(t *testing.T) {
	all := compileAll(t)
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			op := a.op
			if op == "" {
				op = admission.Create
			}
			ns := tenantNamespace("team-a", a.ns)
			obj := parse(t, a.object)
			if a.resource == podsGVR {
				obj = pod(t, a.object)
			}
			got := evaluate(t, all, ns, request{resource: a.resource, op: op, user: nsSA, object: obj, oldObject: parse(t, a.old)})
			checkDenials(t, got, a.want)
		})
	}
}

func checkDenials(t *testing.T, got []string, want string) {
	t.Helper()
	if want == "" {
		if len(got) > 0 {
			t.Fatalf("refused: %v", got)
		}
		return
	}
	for _, d := range got {
		if strings.Contains(d, want) {
			return
		}
	}
	t.Fatalf("denials %v, want one containing %q", got, want)
}

// TestGuardsSpareOthers checks that the agent, admins and other namespaces' service
// accounts are not matched, even for what the guards refuse to the namespace's own.
func TestGuardsSpareOthers(t *testing.T) {
	all := compileAll(t)
	ns := tenantNamespace("team-a", nil)
	hostile := pod(t, `spec: {hostNetwork: true, containers: [{name: c, image: x, securityContext: {privileged: true}}]}`)
	for _, u := range []string{"tenantry-admin", "system:serviceaccount:tenantry-system:tenantry", "system:serviceaccount:kube-system:statefulset-controller"} {
		if got := evaluate(t, all, ns, request{resource: podsGVR, op: admission.Create, user: u, object: hostile}); len(got) > 0 {
			t.Errorf("%s refused: %v", u, got)
		}
	}
	if got := evaluate(t, all, ns, request{resource: podsGVR, op: admission.Create, user: nsSA, object: hostile}); len(got) == 0 {
		t.Error("the namespace's service account was not refused")
	}
}

func parse(t *testing.T, s string) map[string]any {
	t.Helper()
	if s == "" {
		return nil
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	if m["metadata"] == nil {
		m["metadata"] = map[string]any{"name": "x"}
	}
	return m
}

// pod merges a patch (YAML) over syncedPod: lists and scalars replace, maps merge.
func pod(t *testing.T, patch string) map[string]any {
	t.Helper()
	return merge(parse(t, syncedPod), parse(t, patch))
}

func merge(base, patch map[string]any) map[string]any {
	for k, v := range patch {
		if pm, ok := v.(map[string]any); ok {
			if bm, ok := base[k].(map[string]any); ok {
				base[k] = merge(bm, pm)
				continue
			}
		}
		base[k] = v
	}
	return base
}

// TestConditionTaintsMatchTheSyncer: the pods guard admits a toleration of each taint the
// syncer lets through without a grant (pods.ConditionTaints), and of no other
// node.kubernetes.io taint, so the two lists cannot drift apart.
func TestConditionTaintsMatchTheSyncer(t *testing.T) {
	all := compileAll(t)
	ns := tenantNamespace("team-a", nil)
	for _, key := range append(slices.Clone(pods.ConditionTaints), "node.kubernetes.io/out-of-service") {
		t.Run(key, func(t *testing.T) {
			obj := pod(t, "spec: {tolerations: [{key: "+key+", operator: Exists}]}")
			got := evaluate(t, all, ns, request{resource: podsGVR, op: admission.Create, user: nsSA, object: obj})
			want := ""
			if !slices.Contains(pods.ConditionTaints, key) {
				want = "tolerations other than"
			}
			checkDenials(t, got, want)
		})
	}
}
