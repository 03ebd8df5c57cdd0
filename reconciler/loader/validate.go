package loader

import (
	"path"
	"slices"
	"strings"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Owner kinds and policy enforcement actions.
var (
	ownerKinds         = []string{"User", "Group"}
	enforcementActions = []string{"deny", "warn", "dryrun"}
	exposeTypes        = []string{"ClusterIP", "NodePort", "LoadBalancer", "Ingress"}
)

// validateTenant checks the semantics of a decoded tenant file.
func validateTenant(c *collector, t *v1alpha1.Tenant, file string) {
	checkTypeMeta(c, t.TypeMeta, v1alpha1.Kind)
	checkName(c, t.Name, file)
	checkMetadataMaps(c, t.ObjectMeta)
	validateDefaultable(c, &t.Spec, "spec")
	validateTenantOnly(c, &t.Spec, "spec")
}

func checkTypeMeta(c *collector, tm metav1.TypeMeta, kind string) {
	checkConstant(c, "apiVersion", tm.APIVersion, v1alpha1.APIVersion)
	checkConstant(c, "kind", tm.Kind, kind)
}

func checkConstant(c *collector, field, got, want string) {
	switch got {
	case want:
	case "":
		c.field(field, "required (must be %q)", want)
	default:
		c.field(field, "must be %q, got %q", want, got)
	}
}

// checkName checks metadata.name: a DNS-1123 label equal to the file's name without extension.
func checkName(c *collector, name, file string) {
	base := path.Base(file)
	switch {
	case name == "":
		c.field("metadata.name", "required (the file name without extension, %q)", fileStem(file))
	case len(validation.IsDNS1123Label(name)) > 0:
		c.field("metadata.name", "invalid name %q: %s", name, strings.Join(validation.IsDNS1123Label(name), "; "))
	case name != fileStem(file):
		c.field("metadata.name", "%q does not match the file name %s", name, base)
	}
}

func checkMetadataMaps(c *collector, m metav1.ObjectMeta) {
	checkLabels(c, "metadata.labels", m.Labels)
	for _, k := range sortedKeys(m.Annotations) {
		checkMessages(c, child("metadata.annotations", k), "invalid annotation key", k,
			validation.IsQualifiedName(strings.ToLower(k)))
	}
}

// checkLabels checks label keys and values (metadata.labels, node selectors).
func checkLabels(c *collector, base string, labels map[string]string) {
	for _, k := range sortedKeys(labels) {
		p := child(base, k)
		checkMessages(c, p, "invalid label key", k, validation.IsQualifiedName(k))
		checkMessages(c, p, "invalid label value", labels[k], validation.IsValidLabelValue(labels[k]))
	}
}

// checkDNSLabel checks an optional DNS-1123 label (a namespace name).
func checkDNSLabel(c *collector, field, what, v string) {
	if v != "" {
		checkMessages(c, field, "invalid "+what, v, validation.IsDNS1123Label(v))
	}
}

// checkDNSSubdomain checks an optional DNS-1123 subdomain (a host, an object name).
func checkDNSSubdomain(c *collector, field, what, v string) {
	if v != "" {
		checkMessages(c, field, "invalid "+what, v, validation.IsDNS1123Subdomain(v))
	}
}

// checkMessages records the messages of an apimachinery validation function, if any.
func checkMessages(c *collector, field, what, value string, msgs []string) {
	if len(msgs) > 0 {
		c.field(field, "%s %q: %s", what, truncate(value), strings.Join(msgs, "; "))
	}
}

// checkEnum checks an optional enumerated value.
func checkEnum[T ~string](c *collector, field string, v T, allowed ...T) {
	if v != "" && !slices.Contains(allowed, v) {
		c.field(field, "unsupported value %q (must be %s)", truncate(string(v)), orList(allowed))
	}
}

// orList formats values as "A, B or C".
func orList[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// validateDefaultable checks the spec fields that defaults.yaml may also set.
func validateDefaultable(c *collector, s *v1alpha1.TenantSpec, base string) {
	if s.KubernetesVersion != "" {
		if _, err := v1alpha1.ResolveKubernetesVersion(s.KubernetesVersion); err != nil {
			c.field(child(base, "kubernetesVersion"), "%s", err.Error())
		}
	}
	checkEnum(c, child(base, "network.isolation"), s.Network.Isolation, v1alpha1.IsolationIsolated, v1alpha1.IsolationNone)
	checkEnum(c, child(base, "deletionPolicy"), s.DeletionPolicy, v1alpha1.DeletionRetain, v1alpha1.DeletionDelete)
	checkEnum(c, child(base, "drift.mode"), s.Drift.Mode, v1alpha1.DriftCorrect, v1alpha1.DriftDetectOnly)
	checkEnum(c, child(base, "expose.type"), s.Expose.Type, exposeTypes...)
	checkDNSSubdomain(c, child(base, "persistence.storageClassName"), "storage class name", s.Persistence.StorageClassName)
}

// validateTenantOnly checks the spec fields only a tenant file may set.
func validateTenantOnly(c *collector, s *v1alpha1.TenantSpec, base string) {
	checkDNSLabel(c, child(base, "namespace"), "namespace", s.Namespace)
	checkOwners(c, s.Owners, child(base, "owners"))
	for i, ns := range s.Network.AllowFromNamespaces {
		checkDNSLabel(c, index(child(base, "network.allowFromNamespaces"), i), "namespace", ns)
	}
	checkPolicies(c, s.Policies, child(base, "policies"))
	checkLabels(c, child(base, "sync.nodes.nodeSelector"), s.Sync.Nodes.NodeSelector)
	checkTolerations(c, s.Pods.Tolerations, child(base, "pods.tolerations"))
	checkIngressHosts(c, s.Sync.IngressHosts, child(base, "sync.ingressHosts"))
	checkDNSSubdomain(c, child(base, "expose.host"), "host", s.Expose.Host)
	checkDNSSubdomain(c, child(base, "expose.ingressClassName"), "ingress class name", s.Expose.IngressClassName)
	checkIngressHost(c, s, base)
	if s.Datastore != nil {
		checkDatastore(c, *s.Datastore, child(base, "datastore"))
	}
}

// checkDatastore requires a Secret key for an external datastore, and none for SQLite.
func checkDatastore(c *collector, d v1alpha1.Datastore, base string) {
	checkEnum(c, child(base, "type"), d.Type, v1alpha1.DatastoreSQLite, v1alpha1.DatastorePostgres, v1alpha1.DatastoreMySQL)
	external := d.Type == v1alpha1.DatastorePostgres || d.Type == v1alpha1.DatastoreMySQL
	switch {
	case external && (d.SecretRef == nil || d.SecretRef.Name == ""):
		c.field(child(base, "secretRef.name"), "required when type is %s: a Secret in the tenant's namespace holding the connection string", d.Type)
	case !external && d.SecretRef != nil:
		c.field(child(base, "secretRef"), "only for type Postgres or MySQL")
	case external:
		checkDNSSubdomain(c, child(base, "secretRef.name"), "Secret name", d.SecretRef.Name)
		if k := d.SecretRef.Key; k != "" {
			checkMessages(c, child(base, "secretRef.key"), "invalid Secret key", k, validation.IsConfigMapKey(k))
		}
	}
}

func checkOwners(c *collector, owners []v1alpha1.Subject, base string) {
	for i, o := range owners {
		p := index(base, i)
		if o.Kind == "" {
			c.field(child(p, "kind"), "required (must be %s)", orList(ownerKinds))
		}
		checkEnum(c, child(p, "kind"), o.Kind, ownerKinds...)
		if o.Name == "" {
			c.field(child(p, "name"), "required")
		}
	}
}

func checkPolicies(c *collector, policies []v1alpha1.Policy, base string) {
	for i, pol := range policies {
		p := index(base, i)
		if pol.Template == "" {
			c.field(child(p, "template"), "required (the ConstraintTemplate's kind)")
		}
		checkEnum(c, child(p, "enforcementAction"), pol.EnforcementAction, enforcementActions...)
	}
}

// checkIngressHost requires a host when the API server is exposed through an Ingress.
func checkIngressHost(c *collector, s *v1alpha1.TenantSpec, base string) {
	if s.Expose.Type == "Ingress" && s.Expose.Host == "" {
		c.field(child(base, "expose.host"), "required when expose.type is Ingress")
	}
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
