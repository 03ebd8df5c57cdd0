// Package ingresses syncs Ingresses to the host, pointing them at host services and TLS secrets.
package ingresses

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/syncer/allowlist"
	"github.com/tenantry/tenantry/syncer/synccontext"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Kind is the ingress kind recorded on host objects.
const Kind = "Ingress"

// Syncer syncs Ingresses (when the tenant file sets spec.sync.ingresses).
type Syncer struct{}

// Kind implements types.Syncer.
func (Syncer) Kind() string { return Kind }

// New implements types.Syncer.
func (Syncer) New() client.Object { return &networkingv1.Ingress{} }

// Index lets the secrets syncer find the TLS secrets ingresses reference.
func (Syncer) Index(ctx context.Context, idx client.FieldIndexer) error {
	err := idx.IndexField(ctx, &networkingv1.Ingress{}, synccontext.IndexIngressSecrets, func(obj client.Object) []string {
		var out []string
		for _, tls := range obj.(*networkingv1.Ingress).Spec.TLS {
			if tls.SecretName != "" {
				out = append(out, tls.SecretName)
			}
		}
		return out
	})
	if err != nil {
		return fmt.Errorf("indexing ingress TLS secrets: %w", err)
	}
	return nil
}

// Fields is the allow-list of a host ingress (see package allowlist).
var Fields = allowlist.Join(allowlist.Metadata, allowlist.List{
	"spec.ingressClassName", "spec.tls[].hosts[]", "spec.tls[].secretName", "spec.rules[].host",
	"spec.rules[].http.paths[].path", "spec.rules[].http.paths[].pathType",
	"spec.rules[].http.paths[].backend.service.name", "spec.rules[].http.paths[].backend.service.port.name",
	"spec.rules[].http.paths[].backend.service.port.number", "status.loadBalancer",
})

// ToHost is the host form of an ingress, built from Fields: every rule and TLS entry
// names hosts the tenant file lists in spec.sync.ingressHosts (hosts), backends are the
// tenant's own services, TLS secrets are renamed. A default backend, a rule without a
// host (both answer for every name) and resource backends are refused.
func ToHost(v *networkingv1.Ingress, t translate.Translator, hosts []string) (*networkingv1.Ingress, error) {
	var refused translate.Refusals
	meta, err := t.ObjectMetaWith(v, Kind, annotations)
	if err := refused.AddErr(err); err != nil {
		return nil, err
	}
	h := &networkingv1.Ingress{ObjectMeta: meta}
	if t.DisableChecks {
		h.Spec = *v.Spec.DeepCopy()
	} else {
		h.Spec = spec(&v.Spec, hosts, &refused)
	}
	if err := refused.Err(); err != nil {
		return nil, err
	}
	rename(h, v.Namespace, t)
	return h, nil
}

const hostsSetting = "is not in the tenant file's spec.sync.ingressHosts"

func spec(v *networkingv1.IngressSpec, hosts []string, refused *translate.Refusals) networkingv1.IngressSpec {
	if v.DefaultBackend != nil {
		refused.Add("spec.defaultBackend", "a default backend answers for every host name; give each rule a host")
	}
	s := networkingv1.IngressSpec{IngressClassName: cp(v.IngressClassName)}
	for i, tls := range v.TLS {
		path := "spec.tls[" + strconv.Itoa(i) + "].hosts"
		if len(tls.Hosts) == 0 {
			refused.Add(path, "a TLS entry must name its hosts")
		}
		for j, host := range tls.Hosts {
			if !HostAllowed(host, hosts) {
				refused.Add(path+"["+strconv.Itoa(j)+"]", host+" "+hostsSetting)
			}
		}
		s.TLS = append(s.TLS, networkingv1.IngressTLS{Hosts: append([]string(nil), tls.Hosts...), SecretName: tls.SecretName})
	}
	for i, r := range v.Rules {
		s.Rules = append(s.Rules, rule("spec.rules["+strconv.Itoa(i)+"]", r, hosts, refused))
	}
	return s
}

func rule(path string, r networkingv1.IngressRule, hosts []string, refused *translate.Refusals) networkingv1.IngressRule {
	switch {
	case r.Host == "":
		refused.Add(path+".host", "a rule without a host answers for every host name")
	case !HostAllowed(r.Host, hosts):
		refused.Add(path+".host", r.Host+" "+hostsSetting)
	}
	out := networkingv1.IngressRule{Host: r.Host}
	if r.HTTP == nil {
		return out
	}
	out.HTTP = &networkingv1.HTTPIngressRuleValue{Paths: make([]networkingv1.HTTPIngressPath, 0, len(r.HTTP.Paths))}
	for j, p := range r.HTTP.Paths {
		hp := networkingv1.HTTPIngressPath{Path: p.Path, PathType: cp(p.PathType)}
		switch b := p.Backend; {
		case b.Service != nil:
			hp.Backend.Service = &networkingv1.IngressServiceBackend{Name: b.Service.Name,
				Port: networkingv1.ServiceBackendPort{Name: b.Service.Port.Name, Number: b.Service.Port.Number}}
		default:
			refused.Add(path+".http.paths["+strconv.Itoa(j)+"].backend", "only service backends are supported")
		}
		out.HTTP.Paths = append(out.HTTP.Paths, hp)
	}
	return out
}

// rename points backends at host services and TLS entries at host secrets.
func rename(h *networkingv1.Ingress, vns string, t translate.Translator) {
	service := func(b *networkingv1.IngressBackend) {
		if b != nil && b.Service != nil {
			b.Service.Name = t.Name(b.Service.Name, vns)
		}
	}
	service(h.Spec.DefaultBackend)
	for i := range h.Spec.Rules {
		if h.Spec.Rules[i].HTTP == nil {
			continue
		}
		for j := range h.Spec.Rules[i].HTTP.Paths {
			service(&h.Spec.Rules[i].HTTP.Paths[j].Backend)
		}
	}
	for i := range h.Spec.TLS {
		if h.Spec.TLS[i].SecretName != "" {
			h.Spec.TLS[i].SecretName = t.Name(h.Spec.TLS[i].SecretName, vns)
		}
	}
}

// HostAllowed reports whether host matches one of patterns: an exact name, or
// "*.<domain>", which matches exactly one more label (and the same wildcard).
func HostAllowed(host string, patterns []string) bool {
	host = strings.ToLower(host)
	for _, p := range patterns {
		p = strings.ToLower(p)
		if host == p {
			return true
		}
		if suffix, ok := strings.CutPrefix(p, "*"); ok && strings.HasSuffix(host, suffix) {
			label := strings.TrimSuffix(host, suffix)
			if label != "" && !strings.ContainsAny(label, ".*") {
				return true
			}
		}
	}
	return false
}

// nginxDomain is ingress-nginx's annotation domain.
const nginxDomain = "nginx.ingress.kubernetes.io"

// nginxAnnotations are the ingress-nginx annotations a tenant may set: how its own
// requests are routed, redirected, sized, timed out and shared (CORS). Snippets,
// external auth, server aliases and the like configure the controller itself and are
// refused.
var nginxAnnotations = map[string]bool{
	"rewrite-target": true, "use-regex": true, "ssl-redirect": true, "force-ssl-redirect": true, "backend-protocol": true,
	"proxy-body-size": true, "proxy-connect-timeout": true, "proxy-send-timeout": true, "proxy-read-timeout": true,
	"proxy-buffering": true, "enable-cors": true, "cors-allow-origin": true, "cors-allow-methods": true,
	"cors-allow-headers": true, "cors-allow-credentials": true, "cors-expose-headers": true, "cors-max-age": true,
	"affinity": true, "session-cookie-name": true,
}

// annotations keeps the allowed ingress-nginx annotations and refuses the others, and
// any controller's snippet annotations.
func annotations(key, _ string) (keep bool, reason string, ok bool) {
	name, inNginx := strings.CutPrefix(key, nginxDomain+"/")
	switch {
	case strings.Contains(strings.ToLower(key), "snippet"):
		return false, "snippet annotations configure the ingress controller itself", true
	case inNginx && nginxAnnotations[name]:
		return true, "", true
	case inNginx:
		return false, "only these ingress-nginx annotations are allowed: " + strings.Join(slices.Sorted(maps.Keys(nginxAnnotations)), ", "), true
	}
	return false, "", false
}

func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	x := *p
	return &x
}

// SyncToHost creates or updates the host ingress.
func (Syncer) SyncToHost(ctx context.Context, sc *synccontext.Context, vObj, hObj client.Object) error {
	v := vObj.(*networkingv1.Ingress)
	want, err := ToHost(v, sc.Translator, sc.Sync.IngressHosts)
	if err != nil {
		return err
	}
	if hObj == nil {
		return sc.CreateHost(ctx, v, want)
	}
	updated := hObj.(*networkingv1.Ingress).DeepCopy()
	changed := translate.MergeMeta(&updated.ObjectMeta, want.ObjectMeta)
	if !equality.Semantic.DeepEqual(want.Spec, updated.Spec) {
		updated.Spec, changed = want.Spec, true
	}
	if !changed {
		return nil
	}
	return sc.UpdateHost(ctx, v, updated)
}

// SyncFromHost copies the host ingress's load-balancer status back.
func (Syncer) SyncFromHost(ctx context.Context, sc *synccontext.Context, hObj, vObj client.Object) error {
	h, v := hObj.(*networkingv1.Ingress), vObj.(*networkingv1.Ingress)
	if equality.Semantic.DeepEqual(h.Status, v.Status) {
		return nil
	}
	updated := v.DeepCopy()
	updated.Status = h.Status
	if err := sc.Virtual.Status().Update(ctx, updated); err != nil {
		return fmt.Errorf("updating virtual ingress status: %w", err)
	}
	return nil
}
