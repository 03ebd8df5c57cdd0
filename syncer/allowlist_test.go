package syncer_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/randfill"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/allowlist"
	"github.com/tenantry/tenantry/syncer/configmaps"
	"github.com/tenantry/tenantry/syncer/endpoints"
	"github.com/tenantry/tenantry/syncer/ingresses"
	"github.com/tenantry/tenantry/syncer/networkpolicies"
	"github.com/tenantry/tenantry/syncer/pods"
	"github.com/tenantry/tenantry/syncer/pvcs"
	"github.com/tenantry/tenantry/syncer/secrets"
	"github.com/tenantry/tenantry/syncer/services"
	"github.com/tenantry/tenantry/syncer/translate"
)

// rounds is how many random objects of each kind are translated.
const rounds = 300

var tr = translate.Translator{VCluster: "team-a", HostNamespace: "tenant-team-a"}

// allowKind is one kind under the property test: fill makes a random virtual object
// (tamed only where the translator refuses, so most are accepted) and translates it.
type allowKind struct {
	name   string
	fields allowlist.List
	fill   func(f *randfill.Filler, t translate.Translator) (client.Object, error)
}

func allowKinds() []allowKind {
	return []allowKind{
		{name: "Pod", fields: pods.Fields, fill: fillPod},
		{name: "Service", fields: services.Fields, fill: func(f *randfill.Filler, t translate.Translator) (client.Object, error) {
			var v corev1.Service
			f.Fill(&v)
			v.Spec.Type = []corev1.ServiceType{"", "ClusterIP", "NodePort", "LoadBalancer"}[len(v.Name)%4]
			v.Spec.ExternalIPs, v.Spec.ExternalName, v.Spec.LoadBalancerIP, v.Spec.LoadBalancerClass = nil, "", "", nil
			return services.ToHost(&v, t)
		}},
		{name: "Endpoints", fields: endpoints.Fields, fill: func(f *randfill.Filler, t translate.Translator) (client.Object, error) {
			var v corev1.Endpoints //nolint:staticcheck // selector-less services are served by Endpoints
			f.Fill(&v)
			return endpoints.ToHost(&v, t, func(string) (bool, error) { return true, nil })
		}},
		{name: "Secret", fields: secrets.Fields, fill: func(f *randfill.Filler, t translate.Translator) (client.Object, error) {
			var v corev1.Secret
			f.Fill(&v)
			v.Type = corev1.SecretTypeOpaque
			return secrets.ToHost(&v, t)
		}},
		{name: "ConfigMap", fields: configmaps.Fields, fill: func(f *randfill.Filler, t translate.Translator) (client.Object, error) {
			var v corev1.ConfigMap
			f.Fill(&v)
			return configmaps.ToHost(&v, t)
		}},
		{name: "PersistentVolumeClaim", fields: pvcs.Fields, fill: func(f *randfill.Filler, t translate.Translator) (client.Object, error) {
			var v corev1.PersistentVolumeClaim
			f.Fill(&v)
			tameClaim(&v.Spec, true)
			return pvcs.ToHost(&v, t)
		}},
		{name: "Ingress", fields: ingresses.Fields, fill: fillIngress},
		{name: "NetworkPolicy", fields: networkpolicies.Fields, fill: func(f *randfill.Filler, t translate.Translator) (client.Object, error) {
			var v networkingv1.NetworkPolicy
			f.Fill(&v)
			for i := range v.Spec.Ingress {
				for j := range v.Spec.Ingress[i].From {
					v.Spec.Ingress[i].From[j].IPBlock = nil
				}
			}
			for i := range v.Spec.Egress {
				for j := range v.Spec.Egress[i].To {
					v.Spec.Egress[i].To[j].IPBlock = nil
				}
			}
			return networkpolicies.ToHost(&v, t, func(metav1.LabelSelector) ([]string, error) { return []string{"ns"}, nil })
		}},
	}
}

func filler(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.3).NumElements(0, 3).Funcs(
		func(q *resource.Quantity, c randfill.Continue) {
			*q = *resource.NewQuantity(c.Int63n(1<<20), resource.DecimalSI)
		})
}

// TestHostObjectsStayInAllowLists: random virtual objects of every kind never yield a
// host object with a field outside the kind's allow-list, a label in the reserved domain
// other than the syncer's own, or an annotation outside the allow-list.
func TestHostObjectsStayInAllowLists(t *testing.T) {
	for _, k := range allowKinds() {
		t.Run(k.name, func(t *testing.T) {
			accepted := 0
			for i := range rounds {
				h, err := k.fill(filler(int64(i)), tr)
				if translate.IsRefused(err) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				accepted++
				if bad := violations(t, k.fields, h); len(bad) > 0 {
					t.Fatalf("round %d: the host %s has fields outside its allow-list: %v", i, k.name, bad)
				}
			}
			t.Logf("%d of %d random objects accepted", accepted, rounds)
			if accepted < rounds/2 {
				t.Fatalf("only %d of %d random objects were accepted: the test would prove little", accepted, rounds)
			}
		})
	}
}

// TestAllowListCatchesRawCopies proves the property test can fail: with DisableChecks
// the syncer copies specs raw (the old DeepCopy), and random pods then carry fields
// outside the allow-list.
func TestAllowListCatchesRawCopies(t *testing.T) {
	raw := tr
	raw.DisableChecks = true
	for _, k := range allowKinds() {
		if k.name != "Pod" && k.name != "Service" && k.name != "Ingress" {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			for i := range rounds {
				h, err := k.fill(filler(int64(i)), raw)
				if err != nil {
					continue
				}
				if len(violations(t, k.fields, h)) > 0 {
					return
				}
			}
			t.Fatalf("no raw copy of a random %s was caught", k.name)
		})
	}
}

// violations lists the host object's fields outside fields, and its label and
// annotation keys the syncer may not write.
func violations(t *testing.T, fields allowlist.List, h client.Object) []string {
	t.Helper()
	bad, err := fields.Violations(h)
	if err != nil {
		t.Fatal(err)
	}
	for k := range h.GetLabels() {
		if translate.ReservedKey(k) && k != translate.LabelManagedBy && k != translate.LabelNamespace {
			bad = append(bad, "label "+k)
		}
	}
	for k := range h.GetAnnotations() {
		if !translate.AllowedAnnotation(k) && !translate.ReservedKey(k) && !strings.HasPrefix(k, "nginx.ingress.kubernetes.io/") {
			bad = append(bad, "annotation "+k)
		}
	}
	return bad
}

// fillPod makes a random pod that stays inside Pod Security baseline with every
// spec.pods.allow* set, so the translator accepts it.
func fillPod(f *randfill.Filler, t translate.Translator) (client.Object, error) {
	var v corev1.Pod
	f.Fill(&v)
	s := &v.Spec
	s.HostIPC, s.RuntimeClassName, s.ResourceClaims = false, nil, nil
	if sc := s.SecurityContext; sc != nil {
		sc.WindowsOptions, sc.SELinuxOptions = nil, &corev1.SELinuxOptions{Type: "container_t"}
		sc.SeccompProfile, sc.AppArmorProfile = nil, nil
		for i := range sc.Sysctls {
			sc.Sysctls[i].Name = "net.ipv4.tcp_syncookies"
		}
	}
	for _, list := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range list {
			tameContainer(&list[i])
		}
	}
	for i := range s.EphemeralContainers {
		tameContainer((*corev1.Container)(&s.EphemeralContainers[i].EphemeralContainerCommon))
		s.EphemeralContainers[i].TargetContainerName = ""
		if len(s.Containers) > 0 {
			s.EphemeralContainers[i].TargetContainerName = s.Containers[0].Name
		}
	}
	for i := range s.Volumes {
		tameVolume(&s.Volumes[i].VolumeSource, i+len(s.Volumes[i].Name)) // the name varies the type kept
	}
	for i := range s.Tolerations {
		s.Tolerations[i].Key = corev1.TaintNodeNotReady // other values random: only the key is checked
	}
	if a := s.Affinity; a != nil {
		for _, terms := range [][]corev1.PodAffinityTerm{podTerms(a.PodAffinity), antiTerms(a.PodAntiAffinity)} {
			for i := range terms {
				terms[i].Namespaces, terms[i].NamespaceSelector = nil, nil
			}
		}
		a.PodAffinity, a.PodAntiAffinity = nil, nil
	}
	all := v1alpha1.PodPolicy{AllowHostPath: true, AllowHostNetwork: true, AllowHostPID: true, AllowPrivileged: true}
	o := pods.Options{Translator: t, Pods: all, ServiceHost: "10.0.0.1", ServicePort: 443, DNSServer: "10.0.0.2"}
	h, err := pods.ToHost(&v, o)
	if err != nil {
		return nil, err
	}
	// Ephemeral containers reach the host pod later, through pods/ephemeralcontainers.
	h.Spec.EphemeralContainers, err = pods.EphemeralToHost(&v, h, o)
	return h, err
}

func podTerms(a *corev1.PodAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func antiTerms(a *corev1.PodAntiAffinity) []corev1.PodAffinityTerm {
	if a == nil {
		return nil
	}
	return a.RequiredDuringSchedulingIgnoredDuringExecution
}

func tameContainer(c *corev1.Container) {
	c.Resources.Claims = nil
	if sc := c.SecurityContext; sc != nil {
		sc.ProcMount, sc.WindowsOptions, sc.SELinuxOptions, sc.SeccompProfile, sc.AppArmorProfile = nil, nil, nil, nil, nil
		if sc.Capabilities != nil {
			sc.Capabilities.Add = []corev1.Capability{"CHOWN"}
		}
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p != nil {
			tameHandler(p.HTTPGet, p.TCPSocket)
		}
	}
	if l := c.Lifecycle; l != nil {
		for _, h := range []*corev1.LifecycleHandler{l.PostStart, l.PreStop} {
			if h != nil {
				tameHandler(h.HTTPGet, h.TCPSocket)
			}
		}
	}
}

func tameHandler(h *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction) {
	if h != nil {
		h.Host = ""
	}
	if tcp != nil {
		tcp.Host = ""
	}
}

// allowedVolumes are the VolumeSource fields the translator accepts.
var allowedVolumes = []string{"HostPath", "EmptyDir", "Secret", "ConfigMap", "PersistentVolumeClaim", "DownwardAPI", "CSI", "Ephemeral", "Projected"}

// tameVolume keeps one allowed source of a randomly filled volume.
func tameVolume(s *corev1.VolumeSource, i int) {
	keep := allowedVolumes[i%len(allowedVolumes)]
	v := reflect.ValueOf(s).Elem()
	for j := range v.NumField() {
		if name := v.Type().Field(j).Name; name != keep {
			v.Field(j).SetZero()
		} else if v.Field(j).IsNil() {
			v.Field(j).Set(reflect.New(v.Field(j).Type().Elem()))
		}
	}
	if p := s.Projected; p != nil {
		p.Sources = slices.DeleteFunc(p.Sources, func(src corev1.VolumeProjection) bool {
			return src.ServiceAccountToken != nil || src.ClusterTrustBundle != nil || src.PodCertificate != nil ||
				(src.ConfigMap != nil) == (src.Secret != nil) // keep sources with exactly one of the two
		})
		for j := range p.Sources {
			p.Sources[j].DownwardAPI = nil
		}
		// A token source is allowed; the host gets a projection of the pod's token Secret.
		p.Sources = append(p.Sources, corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: "vault", Path: "vault/token"}})
	}
	if e := s.Ephemeral; e != nil && e.VolumeClaimTemplate != nil {
		tameClaim(&e.VolumeClaimTemplate.Spec, false)
	}
}

func tameClaim(s *corev1.PersistentVolumeClaimSpec, dataSources bool) {
	s.VolumeName, s.Selector = "", nil
	if !dataSources {
		s.DataSource, s.DataSourceRef = nil, nil
		return
	}
	if s.DataSource != nil {
		s.DataSource.APIGroup, s.DataSource.Kind = nil, pvcs.Kind
	}
	if s.DataSourceRef != nil {
		s.DataSourceRef.APIGroup, s.DataSourceRef.Kind, s.DataSourceRef.Namespace = nil, pvcs.Kind, nil
	}
}

func fillIngress(f *randfill.Filler, t translate.Translator) (client.Object, error) {
	var v networkingv1.Ingress
	f.Fill(&v)
	v.Spec.DefaultBackend = nil
	for i := range v.Spec.TLS {
		v.Spec.TLS[i].Hosts = []string{"a.team-a.example.com"}
	}
	for i := range v.Spec.Rules {
		v.Spec.Rules[i].Host = "b.team-a.example.com"
		if h := v.Spec.Rules[i].HTTP; h != nil {
			for j := range h.Paths {
				h.Paths[j].Backend.Resource = nil
				if h.Paths[j].Backend.Service == nil {
					h.Paths[j].Backend.Service = &networkingv1.IngressServiceBackend{Name: "svc"}
				}
			}
		}
	}
	for k := range v.Annotations {
		if strings.Contains(strings.ToLower(k), "snippet") {
			delete(v.Annotations, k)
		}
	}
	return ingresses.ToHost(&v, t, []string{"*.team-a.example.com"})
}
