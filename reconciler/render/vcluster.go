package render

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tenantry/tenantry/api/podtokens"
	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/charts"
)

// Defaults of VClusterOptions.
const (
	DefaultVClusterImage = "tenantry-vcluster"
	DefaultServiceCIDR   = "10.96.0.0/12"
)

// VClusterOptions are the host-wide settings of every tenant's virtual cluster.
type VClusterOptions struct {
	// ImageRepository of the virtual cluster image; the tag is the Kubernetes version.
	ImageRepository string
	// PullPolicy of the image; empty keeps the chart's IfNotPresent.
	PullPolicy corev1.PullPolicy
	// ServiceCIDR is the host cluster's service CIDR.
	ServiceCIDR string
	// Resources of the control plane container; nil keeps the chart's.
	Resources *corev1.ResourceRequirements
	// Tokens is the lifetime and refresh of pods' service account tokens; zero keeps the
	// defaults (1 hour, refreshed at 80%).
	Tokens podtokens.Tokens
}

// VClusterName is the name of a tenant's virtual cluster objects (StatefulSet, Service, ...).
func VClusterName(t *v1alpha1.Tenant) string { return "vc-" + t.Name }

// ExternalServiceName is the Service that exposes the virtual API server outside the host
// for NodePort and LoadBalancer (the API port alone, never DNS).
func ExternalServiceName(t *v1alpha1.Tenant) string { return VClusterName(t) + "-external" }

// KubeconfigSecretName is the host Secret that receives the tenant's admin kubeconfig.
func KubeconfigSecretName(t *v1alpha1.Tenant) string { return VClusterName(t) + "-kubeconfig" }

// VClusterEndpoint is the virtual API server's URL inside the host cluster.
func VClusterEndpoint(t *v1alpha1.Tenant) string {
	return fmt.Sprintf("https://%s.%s.svc:443", VClusterName(t), t.HostNamespace())
}

// VCluster renders the tenant's virtual cluster from the embedded charts/vcluster chart.
func VCluster(t *v1alpha1.Tenant, o VClusterOptions) ([]*unstructured.Unstructured, error) {
	values, err := VClusterValues(t, o)
	if err != nil {
		return nil, err
	}
	objs, err := charts.Render(charts.VCluster, charts.Release{Name: t.Name, Namespace: t.HostNamespace()}, values)
	if err != nil {
		return nil, fmt.Errorf("rendering the virtual cluster of tenant %s: %w", t.Name, err)
	}
	return objs, nil
}

// VClusterValues builds the vcluster chart's values from a tenant and the host-wide options.
func VClusterValues(t *v1alpha1.Tenant, o VClusterOptions) (map[string]any, error) {
	version, err := ResolvedVersion(t)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.Name, err)
	}
	image := map[string]any{"repository": or(o.ImageRepository, DefaultVClusterImage), "tag": version}
	if o.PullPolicy != "" {
		image["pullPolicy"] = string(o.PullPolicy)
	}
	v := map[string]any{
		"name":              t.Name,
		"kubernetesVersion": version,
		"image":             image,
		"paused":            t.Spec.Paused,
		"serviceCIDR":       or(o.ServiceCIDR, DefaultServiceCIDR),
		"kubeconfigSecret":  KubeconfigSecretName(t),
		"persistence":       persistenceValues(t.Spec.Persistence),
		"expose": map[string]any{"type": or(t.Spec.Expose.Type, "ClusterIP"), "host": t.Spec.Expose.Host,
			"ingressClassName": t.Spec.Expose.IngressClassName},
		"datastore": datastoreValues(t.Spec.Datastore),
	}
	resources := &v1alpha1.ControlPlaneResources // explicit, so LimitRange defaults never apply
	if o.Resources != nil {
		resources = o.Resources
	}
	fields := map[string]any{"owners": t.Spec.Owners, "pods": t.Spec.Pods, "sync": t.Spec.Sync, "resources": resources}
	if o.Tokens != (podtokens.Tokens{}) {
		fields["tokens"] = o.Tokens
	}
	for key, field := range fields {
		m, err := jsonValue(field)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %s: %w", t.Name, key, err)
		}
		if m != nil {
			v[key] = m
		}
	}
	return v, nil
}

// datastoreValues are the chart's datastore values: the type, and for an external one the
// Secret key the control plane reads its connection string from.
func datastoreValues(d *v1alpha1.Datastore) map[string]any {
	if d == nil {
		return map[string]any{"type": v1alpha1.DatastoreSQLite}
	}
	v := map[string]any{"type": or(d.Type, v1alpha1.DatastoreSQLite)}
	if d.SecretRef != nil {
		v["secretRef"] = map[string]any{"name": d.SecretRef.Name, "key": or(d.SecretRef.Key, "endpoint")}
	}
	return v
}

// ResolvedVersion is the full Kubernetes version of a tenant's virtual cluster: its
// kubernetesVersion resolved, or the newest supported one.
func ResolvedVersion(t *v1alpha1.Tenant) (string, error) {
	if t.Spec.KubernetesVersion == "" {
		return v1alpha1.NewestKubernetesVersion(), nil
	}
	v, err := v1alpha1.ResolveKubernetesVersion(t.Spec.KubernetesVersion)
	if err != nil {
		return "", fmt.Errorf("kubernetesVersion: %w", err)
	}
	return v, nil
}

// CompareMinor compares the minor versions of two full versions ("v1.36.3" < "v1.37.0"):
// negative, zero or positive. Unparsable versions compare equal.
func CompareMinor(a, b string) int {
	am, an, okA := majorMinor(a)
	bm, bn, okB := majorMinor(b)
	if !okA || !okB {
		return 0
	}
	if am != bm {
		return am - bm
	}
	return an - bn
}

func majorMinor(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	return ma, mi, err1 == nil && err2 == nil
}

// persistenceValues: a size of 0 turns persistence off (emptyDir); no size keeps the
// chart's default size.
func persistenceValues(p v1alpha1.Persistence) map[string]any {
	out := map[string]any{"enabled": true, "storageClassName": p.StorageClassName}
	if p.Size != nil {
		if p.Size.IsZero() {
			out["enabled"] = false
		} else {
			out["size"] = p.Size.String()
		}
	}
	return out
}

// jsonValue turns a typed value into plain JSON values (maps, lists, strings), as
// chart values; empty objects and lists become nil.
func jsonValue(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	switch x := out.(type) {
	case map[string]any:
		if len(x) == 0 {
			return nil, nil
		}
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
	}
	return out, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
