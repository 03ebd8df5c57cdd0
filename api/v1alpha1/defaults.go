package v1alpha1

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindTenantDefaults is the kind of the optional defaults.yaml at the root of a tenants repo.
const KindTenantDefaults = "TenantDefaults"

// TenantDefaults is the optional defaults.yaml of a tenants repo: platform-wide defaults
// and limits that apply to every tenant.
type TenantDefaults struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              DefaultsSpec `json:"spec"`
}

// DefaultsSpec holds the platform-wide defaults and limits.
type DefaultsSpec struct {
	// Defaults fill the fields a tenant leaves empty: quota and limits per key (the tenant's
	// value wins), network.isolation, kubernetesVersion, persistence, deletionPolicy,
	// drift.mode and expose.type. Other fields cannot be defaulted.
	Defaults TenantSpec `json:"defaults,omitempty"`
	// MaxQuota caps each tenant's quota per key: a tenant asking for more is invalid.
	MaxQuota corev1.ResourceList `json:"maxQuota,omitempty"`
	// RequiredPolicies are added to every tenant that does not already list the same
	// template: a tenant cannot drop them.
	RequiredPolicies []Policy `json:"requiredPolicies,omitempty"`
	// MaxTenantDeletions caps how many tenants one sync may delete (a guard against an
	// accidental mass removal of tenant files); nil means no limit.
	MaxTenantDeletions *int `json:"maxTenantDeletions,omitempty"`
	// ProtectedNamespaces are host namespaces no tenant may claim, besides the built-in
	// ones (default, kube-*, tenantry-system, gatekeeper-system and the agent's own):
	// exact names or prefix globs ("platform-*").
	ProtectedNamespaces []string `json:"protectedNamespaces,omitempty"`
	// NamespaceAdoptions let a tenant take over a namespace that exists without
	// tenantry's owner labels. Without an entry such a tenant is refused.
	NamespaceAdoptions []NamespaceAdoption `json:"namespaceAdoptions,omitempty"`
	// TenantExceptions grant tenants the privileges a tenant file cannot grant itself.
	TenantExceptions []TenantException `json:"tenantExceptions,omitempty"`
	// IngressDomains, when set, are the only domains tenants' sync.ingressHosts may lie under.
	IngressDomains []string `json:"ingressDomains,omitempty"`
}

// NamespaceAdoption lets one tenant adopt one existing namespace.
type NamespaceAdoption struct {
	Namespace string `json:"namespace"`
	Tenant    string `json:"tenant"`
}

// TenantException grants privileges to the tenants whose names match one of Tenants
// (exact names or globs, "team-*").
type TenantException struct {
	Tenants          []string `json:"tenants"`
	AllowHostPath    bool     `json:"allowHostPath,omitempty"`
	AllowHostNetwork bool     `json:"allowHostNetwork,omitempty"`
	AllowHostPID     bool     `json:"allowHostPID,omitempty"`
	AllowPrivileged  bool     `json:"allowPrivileged,omitempty"`
	// AllowIsolationNone lets the tenant file set network.isolation: None.
	AllowIsolationNone bool `json:"allowIsolationNone,omitempty"`
	// AllowTolerations lets the tenant file set pods.tolerations: its pods, and what its
	// virtual pods tolerate within them, may then go to nodes with those taints.
	AllowTolerations bool `json:"allowTolerations,omitempty"`
}

// Adopts reports whether the defaults let tenant adopt the existing namespace ns.
func (d *DefaultsSpec) Adopts(tenant, ns string) bool {
	for _, a := range d.NamespaceAdoptions {
		if a.Tenant == tenant && a.Namespace == ns {
			return true
		}
	}
	return false
}

// ControlPlaneResources are the requests and limits of a tenant's virtual control plane
// container. The chart sets CPU and memory explicitly, so a tenant's LimitRange defaults
// for them never apply; the loader refuses a tenant whose quota or limits cannot hold it.
// Ephemeral storage is left unset: nodes with little of it (or none reported) would
// otherwise never schedule a control plane; a quota on it needs a LimitRange default.
//
// The CPU limit is 2, not 1: one container runs kube-apiserver, kube-controller-manager,
// kine and the syncer, and a burst of pods keeps all four busy at once. At 1 CPU the CFS
// quota throttled it through the bench's 1,000-pod load and the pods reached the host in
// 42.8 s; at 2, in 34.9 and 35.6 s (one run each, bench/README.md). The request, which is what the scheduler and the
// node's CPU shares go by, stays 200m. There must be a limit: without one, the tenant's
// LimitRange default (meant for its workloads) would become the control plane's.
var ControlPlaneResources = corev1.ResourceRequirements{
	Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
	Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi")},
}

// SupportedKubernetesVersions maps each supported minor version ("1.37") of the virtual
// control plane to the full version tenantry pins for it.
var SupportedKubernetesVersions = map[string]string{
	"1.37": "v1.37.2",
	"1.36": "v1.36.3",
}

// Errors returned by ResolveKubernetesVersion, for errors.Is.
var (
	ErrInvalidKubernetesVersion     = errors.New("invalid Kubernetes version")
	ErrUnsupportedKubernetesVersion = errors.New("unsupported Kubernetes version")
)

var kubernetesVersionPattern = regexp.MustCompile(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?$`)

// ResolveKubernetesVersion returns the full pinned version ("v1.37.2") for a tenant's
// kubernetesVersion, written "1.37", "v1.37", "1.37.2" or "v1.37.2". Only the minor
// version matters: tenantry picks the patch release it pins for that minor.
func ResolveKubernetesVersion(v string) (string, error) {
	m := kubernetesVersionPattern.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("%w %q (want a version like 1.37, v1.37 or v1.37.2)", ErrInvalidKubernetesVersion, v)
	}
	full, ok := SupportedKubernetesVersions[m[1]+"."+m[2]]
	if !ok {
		return "", fmt.Errorf("%w %q (supported: %s)", ErrUnsupportedKubernetesVersion, v,
			strings.Join(SupportedKubernetesMinors(), ", "))
	}
	return full, nil
}

// SupportedKubernetesMinors returns the supported minor versions, oldest first.
func SupportedKubernetesMinors() []string {
	minors := make([]string, 0, len(SupportedKubernetesVersions))
	for minor := range SupportedKubernetesVersions {
		minors = append(minors, minor)
	}
	slices.SortFunc(minors, compareMinors)
	return minors
}

// NewestKubernetesVersion returns the full pinned version of the newest supported minor,
// the default for tenants that do not choose one.
func NewestKubernetesVersion() string {
	minors := SupportedKubernetesMinors()
	if len(minors) == 0 {
		return ""
	}
	return SupportedKubernetesVersions[minors[len(minors)-1]]
}

// compareMinors orders "major.minor" strings numerically, so that 1.100 sorts after 1.99.
func compareMinors(a, b string) int {
	am, an := splitMinor(a)
	bm, bn := splitMinor(b)
	if am != bm {
		return am - bm
	}
	return an - bn
}

func splitMinor(s string) (major, minor int) {
	ma, mi, _ := strings.Cut(s, ".")
	major, _ = strconv.Atoi(ma)
	minor, _ = strconv.Atoi(mi)
	return major, minor
}
