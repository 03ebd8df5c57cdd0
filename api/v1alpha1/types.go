package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group, Version and Kind of the Tenant type.
const (
	Group      = "tenantry.dev"
	Version    = "v1alpha1"
	Kind       = "Tenant"
	APIVersion = Group + "/" + Version
)

// Tenant is one tenant: a file tenants/<name>.yaml in the tenants repo, mirrored in
// the host cluster as a cluster-scoped Tenant object.
type Tenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TenantSpec   `json:"spec"`
	Status            TenantStatus `json:"status,omitempty"`
}

// TenantSpec is what a tenant file declares.
type TenantSpec struct {
	// Namespace is the host namespace; "tenant-<name>" when empty.
	Namespace string `json:"namespace,omitempty"`
	// Owners become cluster-admin inside the tenant's virtual cluster.
	Owners []Subject `json:"owners,omitempty"`
	// KubernetesVersion of the virtual control plane, e.g. "v1.37" or "1.36".
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// Quota holds ResourceQuota hard limits: compute (cpu, memory, requests.*, limits.*)
	// and object counts (pods, services, count/deployments.apps, ...).
	Quota corev1.ResourceList `json:"quota,omitempty"`
	// Limits holds the LimitRange for containers.
	Limits *Limits `json:"limits,omitempty"`
	// Network configures isolation.
	Network Network `json:"network,omitempty"`
	// Policies are Gatekeeper constraints scoped to the tenant's namespace.
	Policies []Policy `json:"policies,omitempty"`
	// Sync chooses which optional kinds the virtual cluster syncs.
	Sync Sync `json:"sync,omitempty"`
	// Pods says what the syncer allows and enforces on the tenant's pods in the host.
	Pods PodPolicy `json:"pods,omitempty"`
	// Expose says how the tenant's API server is reached.
	Expose Expose `json:"expose,omitempty"`
	// Persistence sizes the virtual control plane's data volume; size "0" turns it off
	// (an emptyDir: the virtual cluster's data is lost with its pod).
	Persistence Persistence `json:"persistence,omitempty"`
	// Datastore picks where the virtual cluster's state lives: SQLite on the data volume
	// (default) or an external Postgres or MySQL.
	Datastore *Datastore `json:"datastore,omitempty"`
	// Paused scales the tenant to zero: its virtual cluster's StatefulSet goes to 0
	// replicas (its data is kept) and the workloads synced into the host namespace are
	// deleted; nothing else is applied, pruned or corrected. Unpausing restores the
	// virtual cluster, whose syncer recreates the workloads.
	Paused bool `json:"paused,omitempty"`
	// DeletionPolicy decides what happens when the tenant file is removed: Retain (default) or Delete.
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
	// Drift chooses whether drift is corrected or only reported.
	Drift Drift `json:"drift,omitempty"`
}

// Datastore types.
const (
	DatastoreSQLite   = "SQLite"
	DatastorePostgres = "Postgres"
	DatastoreMySQL    = "MySQL"
)

// Datastore is where kine keeps the virtual cluster's state.
type Datastore struct {
	// Type is SQLite (default: a file on the data volume), Postgres or MySQL.
	Type string `json:"type,omitempty"`
	// SecretRef names the key of a Secret in the tenant's host namespace that holds the
	// connection string (postgres://... or mysql://...); required for Postgres and MySQL.
	// The string never appears in a ConfigMap, the tenant file or the Tenant.
	SecretRef *SecretKeyRef `json:"secretRef,omitempty"`
}

// SecretKeyRef is a key of a Secret in the tenant's host namespace.
type SecretKeyRef struct {
	Name string `json:"name"`
	// Key defaults to "endpoint".
	Key string `json:"key,omitempty"`
}

// Subject is a user or group.
type Subject struct {
	// Kind is User or Group.
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Limits are LimitRange values for containers.
type Limits struct {
	Default        corev1.ResourceList `json:"default,omitempty"`
	DefaultRequest corev1.ResourceList `json:"defaultRequest,omitempty"`
	Max            corev1.ResourceList `json:"max,omitempty"`
	Min            corev1.ResourceList `json:"min,omitempty"`
}

// Network configures network isolation.
type Network struct {
	// Isolation is Isolated (default: deny traffic from other namespaces, allow DNS and
	// the tenant's own API server) or None.
	Isolation Isolation `json:"isolation,omitempty"`
	// AllowFromNamespaces lists host namespaces (by name) allowed to reach the tenant.
	AllowFromNamespaces []string `json:"allowFromNamespaces,omitempty"`
}

// Isolation is a network isolation mode.
type Isolation string

// Isolation modes.
const (
	IsolationIsolated Isolation = "Isolated"
	IsolationNone     Isolation = "None"
)

// Policy names a ConstraintTemplate and its parameters.
type Policy struct {
	// Template is the ConstraintTemplate's kind, e.g. K8sBlockNodePort.
	Template string `json:"template"`
	// Parameters are passed to the constraint's spec.parameters.
	Parameters *apiextensionsv1.JSON `json:"parameters,omitempty"`
	// EnforcementAction is deny (default), warn or dryrun.
	EnforcementAction string `json:"enforcementAction,omitempty"`
}

// Sync chooses the optional kinds synced between virtual and host.
type Sync struct {
	Ingresses bool `json:"ingresses,omitempty"`
	// IngressHosts are the host names the tenant's synced Ingresses may use: exact names
	// ("app.team-a.example.com") or one leading wildcard label ("*.team-a.example.com").
	// An Ingress rule without a host, or with a host matching none of them, is refused.
	// Two tenants may not claim overlapping patterns.
	IngressHosts       []string  `json:"ingressHosts,omitempty"`
	NetworkPolicies    bool      `json:"networkPolicies,omitempty"`
	HostStorageClasses bool      `json:"hostStorageClasses,omitempty"`
	Nodes              SyncNodes `json:"nodes,omitempty"`
}

// PodPolicy is what the syncer allows and enforces when it copies a tenant's pods to
// the host. Everything is refused unless allowed here.
type PodPolicy struct {
	AllowHostPath    bool `json:"allowHostPath,omitempty"`
	AllowHostNetwork bool `json:"allowHostNetwork,omitempty"`
	AllowHostPID     bool `json:"allowHostPID,omitempty"`
	AllowPrivileged  bool `json:"allowPrivileged,omitempty"`
	// NodeSelector is merged into every host pod; it wins over the pod's own keys.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations are added to every host pod, and bound what a virtual pod may tolerate
	// beyond node-condition taints. Setting them needs a defaults.yaml tenantExceptions
	// grant (allowTolerations).
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// SyncNodes syncs real nodes matching a selector instead of fake nodes.
type SyncNodes struct {
	Enabled      bool              `json:"enabled,omitempty"`
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
}

// Expose says how the tenant's API server is reached.
type Expose struct {
	// Type is ClusterIP (default), NodePort, LoadBalancer or Ingress.
	Type string `json:"type,omitempty"`
	// Host is the ingress host, required for Ingress.
	Host string `json:"host,omitempty"`
	// IngressClassName for Ingress.
	IngressClassName string `json:"ingressClassName,omitempty"`
}

// Persistence sizes the data volume.
type Persistence struct {
	Size             *resource.Quantity `json:"size,omitempty"`
	StorageClassName string             `json:"storageClassName,omitempty"`
}

// DeletionPolicy decides what happens when a tenant file is removed.
type DeletionPolicy string

// Deletion policies.
const (
	DeletionRetain DeletionPolicy = "Retain"
	DeletionDelete DeletionPolicy = "Delete"
)

// Drift configures drift handling.
type Drift struct {
	// Mode is Correct (default) or DetectOnly.
	Mode DriftMode `json:"mode,omitempty"`
}

// DriftMode is how drift is handled.
type DriftMode string

// Drift modes.
const (
	DriftCorrect    DriftMode = "Correct"
	DriftDetectOnly DriftMode = "DetectOnly"
)

// TenantStatus is written by the agent on the host Tenant object.
type TenantStatus struct {
	ObservedGeneration    int64              `json:"observedGeneration,omitempty"`
	Conditions            []metav1.Condition `json:"conditions,omitempty"`
	LastAppliedRevision   string             `json:"lastAppliedRevision,omitempty"`
	LastAttemptedRevision string             `json:"lastAttemptedRevision,omitempty"`
	// ContentRevision is the revision at which the tenant's rendered objects last changed;
	// it is the revision stamped on the objects, so unrelated commits rewrite nothing.
	ContentRevision string `json:"contentRevision,omitempty"`
	// ContentDigest is a digest of the rendered objects at ContentRevision.
	ContentDigest string `json:"contentDigest,omitempty"`
	// SourcePath is the tenant file's path in the repo.
	SourcePath string `json:"sourcePath,omitempty"`
	// Inventory lists the applied objects, for pruning.
	Inventory []ObjectRef `json:"inventory,omitempty"`
	// LastDrift is the last drift seen, if any.
	LastDrift *DriftRecord `json:"lastDrift,omitempty"`
	// ControlPlane reports the tenant's virtual cluster.
	ControlPlane *ControlPlaneStatus `json:"controlPlane,omitempty"`
}

// ControlPlaneStatus reports the tenant's virtual cluster, once its StatefulSet rolled out.
type ControlPlaneStatus struct {
	// Version is the Kubernetes version the virtual control plane runs, e.g. v1.37.2.
	Version string `json:"version,omitempty"`
	// Endpoint is the virtual API server's URL inside the host cluster.
	Endpoint string `json:"endpoint,omitempty"`
	// ExternalEndpoint is its URL from outside, when exposed.
	ExternalEndpoint string `json:"externalEndpoint,omitempty"`
	// KubeconfigSecret names the host Secret (in the tenant namespace) holding an admin kubeconfig.
	KubeconfigSecret string `json:"kubeconfigSecret,omitempty"`
	// Ready is true when the StatefulSet rolled out.
	Ready bool `json:"ready"`
}

// ObjectRef identifies one applied object, in Flux's inventory format
// "<namespace>_<name>_<group>_<kind>" plus its version.
type ObjectRef struct {
	ID      string `json:"id"`
	Version string `json:"v"`
	// Digest is a digest of the object as rendered, without its revision stamp.
	Digest string `json:"d,omitempty"`
	// Revision is the revision stamped on the object (tenantry.dev/revision), the one at
	// which it last changed, when that is not the tenant's contentRevision: a commit
	// rewrites only the objects it changed.
	Revision string `json:"r,omitempty"`
}

// DriftRecord is a drift seen on the live objects.
type DriftRecord struct {
	Time metav1.Time `json:"time"`
	// Summary is a one-line description, shown by kubectl get tenants.
	Summary   string        `json:"summary"`
	Revision  string        `json:"revision,omitempty"`
	Objects   []DriftObject `json:"objects"`
	Corrected bool          `json:"corrected"`
}

// DriftObject is one drifted object and its drifted field paths.
type DriftObject struct {
	Object string   `json:"object"`
	Fields []string `json:"fields,omitempty"`
}

// Condition types and reasons on a Tenant, following kstatus.
const (
	ConditionReady       = "Ready"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"

	ReasonSucceeded      = "ReconciliationSucceeded"
	ReasonProgressing    = "Progressing"
	ReasonInvalid        = "InvalidTenantFile"
	ReasonApplyFailed    = "ApplyFailed"
	ReasonHealthFailed   = "HealthCheckFailed"
	ReasonPaused         = "Paused"
	ReasonDriftCorrected = "DriftCorrected"
	ReasonDriftDetected  = "DriftDetected"
	// ReasonDowngradeRefused: kubernetesVersion is older than the virtual cluster runs.
	ReasonDowngradeRefused = "DowngradeRefused"
	// ReasonNamespaceNotOwned: the host namespace exists and is not the tenant's.
	ReasonNamespaceNotOwned = "NamespaceNotOwned"
	// ReasonStorageClassNotFound: spec.persistence.storageClassName names a StorageClass the
	// host lacks; nothing was applied (the claim would never bind).
	ReasonStorageClassNotFound = "StorageClassNotFound"
	// ReasonNamespaceProtected: the host namespace is the agent's own (or otherwise protected).
	ReasonNamespaceProtected = "NamespaceProtected"
)

// HostNamespace returns the tenant's host namespace.
func (t *Tenant) HostNamespace() string {
	if t.Spec.Namespace != "" {
		return t.Spec.Namespace
	}
	return "tenant-" + t.Name
}
