// Package wellknown holds the labels, annotations, Secret keys and naming rules that more than one tenantry binary relies on.
package wellknown

// Ownership of host objects: the agent (reconciler/render) labels everything it applies
// with them, and the virtual control plane labels its kubeconfig Secret the same way. The
// agent's guards (policy/guards/policies) match the same values.
const (
	// LabelManagedBy marks an object tenantry owns, with value ManagedBy.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is LabelManagedBy's value.
	ManagedBy = "tenantry"
	// LabelTenant names the tenant an object belongs to.
	LabelTenant = "tenantry.dev/tenant"
	// LabelComponent names the part of a tenant an object belongs to.
	LabelComponent = "app.kubernetes.io/component"
	// FieldManager is the server-side apply field manager of the agent and of the virtual
	// control plane.
	FieldManager = "tenantry"
)

// What the syncer puts on every host object it creates for a virtual one: it only ever
// touches host objects whose VClusterLabelManagedBy is its own vcluster's name. The agent
// deletes a tenant's synced pods by VClusterLabelManagedBy, its guards reserve these keys
// to the syncer, and the vcluster chart selects the control-plane pod by
// VClusterLabelControlPlane.
const (
	// VClusterLabelManagedBy holds the name of the vcluster that created a host object.
	VClusterLabelManagedBy = "vcluster.tenantry.dev/managed-by"
	// VClusterLabelNamespace holds the virtual namespace of a host object; service and
	// network policy selectors are narrowed by it, so virtual namespaces stay apart on the host.
	VClusterLabelNamespace = "vcluster.tenantry.dev/namespace"
	// VClusterAnnotationName, VClusterAnnotationNamespace, VClusterAnnotationUID and
	// VClusterAnnotationKind name the virtual origin of a host object.
	VClusterAnnotationName      = "vcluster.tenantry.dev/object-name"
	VClusterAnnotationNamespace = "vcluster.tenantry.dev/object-namespace"
	VClusterAnnotationUID       = "vcluster.tenantry.dev/object-uid"
	VClusterAnnotationKind      = "vcluster.tenantry.dev/object-kind"
	// VClusterAnnotationManagedLabels and VClusterAnnotationManagedAnnotations list
	// (comma-separated, sorted) the tenant's label and annotation keys the syncer copied
	// onto a host object. The syncer owns only those and its own keys: an update leaves
	// every other key (a CNI's, a mesh's, a mutating webhook's) alone.
	VClusterAnnotationManagedLabels      = "vcluster.tenantry.dev/managed-labels"
	VClusterAnnotationManagedAnnotations = "vcluster.tenantry.dev/managed-annotations"
	// VClusterAnnotationTokenIssued and VClusterAnnotationTokenExpires record, on a pod's
	// token Secret, when its tokens were issued and when the first of them expires.
	VClusterAnnotationTokenIssued  = "vcluster.tenantry.dev/token-issued-at"
	VClusterAnnotationTokenExpires = "vcluster.tenantry.dev/token-expires-at"
	// VClusterLabelControlPlane selects a virtual cluster's own control-plane pod (the host
	// Service vc-<tenant> selects on it). No synced object ever carries it: it is in the
	// reserved domain, which the syncer refuses on virtual objects.
	VClusterLabelControlPlane = "vcluster.tenantry.dev/control-plane"
	// VClusterAPIPort is the virtual API server's port in the control-plane pod (the vcluster
	// chart's container port "api"); the agent's exposure NetworkPolicy names it.
	VClusterAPIPort = 6443
	// VClusterKinePort is kine's etcd API on the control-plane pod's loopback, where
	// `tenantry backup` and `restore` reach the virtual cluster's store by port-forward.
	VClusterKinePort = 2379
)

// Keys of a virtual cluster's kubeconfig Secret, which the virtual control plane writes
// and `tenantry kubeconfig` reads.
const (
	// SecretKeyConfig's server is the host Service's in-cluster DNS name on port 443.
	SecretKeyConfig = "config"
	// SecretKeyConfigLocal's server is https://127.0.0.1:<APIPort>, for kubectl port-forward.
	SecretKeyConfigLocal = "config-local"
	// SecretKeyCA is the virtual API server's CA bundle.
	SecretKeyCA = "ca.crt"
)

// KineSQLite is kine's endpoint for a SQLite database at path, for the virtual control plane
// and the local cluster alike. kine is built without cgo (modernc.org/sqlite), which needs the
// busy timeout and immediate write transactions spelled out: without them concurrent writers
// fail with SQLITE_BUSY instead of waiting. synchronous stays SQLite's default (FULL).
func KineSQLite(path string) string {
	return "sqlite://" + path + "?_journal_mode=WAL&_busy_timeout=30000&_txlock=immediate&_stmt_cache_size=20"
}
