// Package guards holds the host-side ValidatingAdmissionPolicies that bind every tenant namespace's service accounts.
package guards

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Annotations on a tenant's Namespace that the guards read as per-tenant parameters. The
// agent renders them from the tenant file; nothing in the namespace can write them.
const (
	AnnotationAllowHostPath    = "tenantry.dev/allow-host-path"
	AnnotationAllowHostNetwork = "tenantry.dev/allow-host-network"
	AnnotationAllowHostPID     = "tenantry.dev/allow-host-pid"
	AnnotationAllowPrivileged  = "tenantry.dev/allow-privileged"
	// AnnotationIngressHosts is a comma-separated list of host patterns (spec.sync.ingressHosts).
	AnnotationIngressHosts = "tenantry.dev/ingress-hosts"
	// AnnotationTolerations is spec.pods.tolerations, as EncodeTolerations writes it.
	AnnotationTolerations = "tenantry.dev/tolerations"
)

// EncodeTolerations is the value of AnnotationTolerations for ts: one comma-separated
// entry each, key (operator Exists) or key=value (Equal), then :Effect when it has one.
// Keys, values and effects cannot hold ",", "=" or ":", so the entries are unambiguous.
func EncodeTolerations(ts []corev1.Toleration) string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		e := t.Key
		if t.Operator != corev1.TolerationOpExists {
			e += "=" + t.Value
		}
		if t.Effect != "" {
			e += ":" + string(t.Effect)
		}
		out = append(out, e)
	}
	return strings.Join(out, ",")
}

// Kinds of the guard objects.
const (
	PolicyKind  = "ValidatingAdmissionPolicy"
	BindingKind = "ValidatingAdmissionPolicyBinding"
	APIVersion  = "admissionregistration.k8s.io/v1"
)

//go:embed policies/*.yaml
var files embed.FS

// Objects returns every guard policy and binding, policies first, each group by name.
func Objects() ([]*unstructured.Unstructured, error) {
	paths, err := fs.Glob(files, "policies/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing guard policies: %w", err)
	}
	var out []*unstructured.Unstructured
	for _, p := range paths {
		data, err := files.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		objs, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, objs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].GetKind() != out[j].GetKind() {
			return out[i].GetKind() == PolicyKind
		}
		return out[i].GetName() < out[j].GetName()
	})
	return out, nil
}

// Names lists the guards' object names (each policy and its binding share one name),
// sorted: RBAC has no globs, so the agent's ClusterRole lists exactly these.
func Names() []string {
	objs, err := Objects()
	if err != nil {
		panic(err) // the policies are embedded: a unit test keeps them parseable
	}
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		if !seen[o.GetName()] {
			seen[o.GetName()] = true
			out = append(out, o.GetName())
		}
	}
	sort.Strings(out)
	return out
}

func decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decoding YAML: %w", err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if u.GetAPIVersion() != APIVersion || (u.GetKind() != PolicyKind && u.GetKind() != BindingKind) {
			return nil, fmt.Errorf("unexpected %s %s %q", u.GetAPIVersion(), u.GetKind(), u.GetName())
		}
		out = append(out, u)
	}
}
