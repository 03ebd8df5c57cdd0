package framework

import (
	"fmt"
	"strings"
)

// TenantOption changes one part of the tenant file TenantYAML writes.
type TenantOption func(*tenantFile)

// tenantFile is what TenantYAML renders; lists keep the order options gave.
type tenantFile struct {
	name, ownerKind, ownerName string
	quota, limits, requests    [][2]string // resource, quantity
	version                    string
	size                       string  // spec.persistence.size
	storageClass               *string // spec.persistence.storageClassName
	extra                      []string
}

// TenantYAML is the file tenants/<name>.yaml of a tenant named name, with opts applied:
//
//	apiVersion: tenantry.dev/v1alpha1
//	kind: Tenant
//	metadata:
//	  name: <name>
//	spec:
//	  owners:
//	  - kind: User
//	    name: <name>-owner
//	  quota:
//	    pods: "10"
//	    cpu: "4"
//	  limits:
//	    default:
//	      cpu: 500m
//
// followed by the options' other fields, in a fixed order (kubernetesVersion, persistence,
// then Spec lines in the order given). The layout above is fixed, so tests can name
// line numbers: spec.quota is line 9, spec.quota.cpu line 11, the first extra line 15.
func TenantYAML(name string, opts ...TenantOption) string {
	f := &tenantFile{name: name, ownerKind: "User", ownerName: name + "-owner",
		quota: [][2]string{{"pods", "10"}, {"cpu", "4"}}, limits: [][2]string{{"cpu", "500m"}}}
	for _, o := range opts {
		o(f)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: tenantry.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: %s\nspec:\n", f.name)
	fmt.Fprintf(&b, "  owners:\n  - kind: %s\n    name: %s\n", f.ownerKind, f.ownerName)
	writeList(&b, "  quota:\n", "    ", f.quota)
	if len(f.limits)+len(f.requests) > 0 {
		b.WriteString("  limits:\n")
		writeList(&b, "    default:\n", "      ", f.limits)
		writeList(&b, "    defaultRequest:\n", "      ", f.requests)
	}
	if f.version != "" {
		fmt.Fprintf(&b, "  kubernetesVersion: %q\n", f.version)
	}
	if f.size != "" || f.storageClass != nil {
		b.WriteString("  persistence:\n")
		if f.size != "" {
			fmt.Fprintf(&b, "    size: %q\n", f.size)
		}
		if f.storageClass != nil {
			fmt.Fprintf(&b, "    storageClassName: %q\n", *f.storageClass)
		}
	}
	for _, l := range f.extra {
		if l = strings.TrimSuffix(l, "\n"); l != "" {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func writeList(b *strings.Builder, head, indent string, kv [][2]string) {
	if len(kv) == 0 {
		return
	}
	b.WriteString(head)
	for _, e := range kv {
		fmt.Fprintf(b, "%s%s: %q\n", indent, e[0], e[1])
	}
}

// set replaces key's quantity in kv, or appends it.
func set(kv [][2]string, key, value string) [][2]string {
	for i := range kv {
		if kv[i][0] == key {
			kv[i][1] = value
			return kv
		}
	}
	return append(kv, [2]string{key, value})
}

// Pods sets spec.quota.pods (default "10").
func Pods(n string) TenantOption { return Quota("pods", n) }

// CPU sets spec.quota.cpu (default "4").
func CPU(q string) TenantOption { return Quota("cpu", q) }

// Quota sets spec.quota.<resource>.
func Quota(resource, q string) TenantOption {
	return func(f *tenantFile) { f.quota = set(f.quota, resource, q) }
}

// DefaultLimit sets spec.limits.default.<resource> (default cpu 500m).
func DefaultLimit(resource, q string) TenantOption {
	return func(f *tenantFile) { f.limits = set(f.limits, resource, q) }
}

// DefaultRequest sets spec.limits.defaultRequest.<resource> (none by default).
func DefaultRequest(resource, q string) TenantOption {
	return func(f *tenantFile) { f.requests = set(f.requests, resource, q) }
}

// NoQuota leaves spec.quota and spec.limits out.
func NoQuota() TenantOption {
	return func(f *tenantFile) { f.quota, f.limits, f.requests = nil, nil, nil }
}

// Owner makes the tenant's only owner the subject kind (User or Group) named name.
func Owner(kind, name string) TenantOption {
	return func(f *tenantFile) { f.ownerKind, f.ownerName = kind, name }
}

// Version sets spec.kubernetesVersion, which gives the tenant a virtual cluster of that
// minor ("1.37").
func Version(minor string) TenantOption { return func(f *tenantFile) { f.version = minor } }

// Persistence sets the size of the control plane's data volume ("0": an emptyDir, the
// fastest start).
func Persistence(size string) TenantOption { return func(f *tenantFile) { f.size = size } }

// StorageClass sets the StorageClass of the control plane's data volume ("" names the
// host's default class explicitly).
func StorageClass(name string) TenantOption {
	return func(f *tenantFile) { f.storageClass = &name }
}

// Spec appends lines to the file as they are (empty ones are dropped): fields of spec
// indented by two spaces; a line may hold several ("  expose:\n    type: NodePort").
func Spec(lines ...string) TenantOption {
	return func(f *tenantFile) { f.extra = append(f.extra, lines...) }
}
