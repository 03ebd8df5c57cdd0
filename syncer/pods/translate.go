package pods

import (
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Kind is the pod kind recorded on host objects.
const Kind = "Pod"

// Options is what rewriting a pod for the host needs.
type Options struct {
	translate.Translator
	Pods        v1alpha1.PodPolicy
	ServiceHost string
	ServicePort int
	DNSServer   string
}

// TokenSecretName is the host Secret holding a host pod's virtual service account token.
// HostName never ends in ".token", so it cannot collide with a synced Secret.
func TokenSecretName(hostPod string) string { return hostPod + ".token" }

// ToHost rewrites a virtual pod into its host pod (see the package syncer documentation):
// the spec is built field by field from the allow-list (Fields), under the tenant's pod
// policy and Pod Security baseline. It returns a *translate.RefusedError naming every
// refused field; the pod then must not reach the host. Its ephemeral containers are
// added to the existing host pod afterwards (EphemeralToHost).
func ToHost(vPod *corev1.Pod, o Options) (*corev1.Pod, error) {
	var refused translate.Refusals
	meta, err := o.ObjectMetaWith(vPod, Kind, podAnnotations)
	if err := refused.AddErr(err); err != nil {
		return nil, err
	}
	hPod := &corev1.Pod{ObjectMeta: meta}
	if o.DisableChecks {
		hPod.Spec = *vPod.Spec.DeepCopy()
		spec := &hPod.Spec
		spec.NodeName, spec.ServiceAccountName, spec.DeprecatedServiceAccount = "", "", ""
		spec.Priority, spec.PriorityClassName, spec.PreemptionPolicy, spec.EphemeralContainers = nil, "", nil, nil
	} else {
		b := specBuilder{t: o.Translator, policy: o.Pods, vns: vPod.Namespace, refused: &refused}
		hPod.Spec = b.spec(&vPod.Spec)
	}
	if err := refused.Err(); err != nil {
		return nil, err
	}
	rewrite(hPod, vPod, o)
	if !o.DisableChecks {
		replaceTokenSources(&hPod.Spec, TokenSecretName(hPod.Name))
	}
	return hPod, nil
}

// rewrite translates the names and references of a host pod's spec and points it at
// the virtual cluster's API server, token and DNS.
func rewrite(hPod, vPod *corev1.Pod, o Options) {
	spec := &hPod.Spec
	vns := vPod.Namespace
	VisitRefs(spec, func(_ RefKind, name *string) { *name = o.Name(*name, vns) })
	spec.AutomountServiceAccountToken = new(false)
	spec.EnableServiceLinks = new(false)
	if spec.Hostname == "" && len(validation.IsDNS1123Label(vPod.Name)) == 0 {
		spec.Hostname = vPod.Name
	}
	if spec.Subdomain != "" {
		spec.Subdomain = o.Name(spec.Subdomain, vns)
	}
	replaceTokenVolume(spec, TokenSecretName(hPod.Name))
	rewriteContainers(spec, o)
	rewriteDNS(spec, vns, o.DNSServer)
	enforce(spec, o.Pods)
}

// replaceTokenVolume swaps the kube-api-access projected volume for the token Secret.
func replaceTokenVolume(spec *corev1.PodSpec, secret string) {
	for i, v := range spec.Volumes {
		if !isTokenVolume(v) {
			continue
		}
		spec.Volumes[i].VolumeSource = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName:  secret,
			DefaultMode: v.Projected.DefaultMode,
			Items: []corev1.KeyToPath{
				{Key: corev1.ServiceAccountTokenKey, Path: corev1.ServiceAccountTokenKey},
				{Key: corev1.ServiceAccountRootCAKey, Path: corev1.ServiceAccountRootCAKey},
				{Key: corev1.ServiceAccountNamespaceKey, Path: corev1.ServiceAccountNamespaceKey},
			},
		}}
	}
}

// rewriteContainers points every container at the virtual API server and makes the
// downward API report virtual names.
func rewriteContainers(spec *corev1.PodSpec, o Options) {
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			rewriteContainer(&list[i], o)
		}
	}
	for _, v := range spec.Volumes {
		var items []corev1.DownwardAPIVolumeFile
		switch {
		case v.DownwardAPI != nil:
			items = v.DownwardAPI.Items
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.DownwardAPI != nil {
					rewriteItems(s.DownwardAPI.Items)
				}
			}
		}
		rewriteItems(items)
	}
}

// rewriteContainer points one container at the virtual API server and makes its
// downward API environment report virtual names.
func rewriteContainer(c *corev1.Container, o Options) {
	c.Env = setEnv(c.Env, "KUBERNETES_SERVICE_HOST", o.ServiceHost)
	c.Env = setEnv(c.Env, "KUBERNETES_SERVICE_PORT", strconv.Itoa(o.ServicePort))
	for j := range c.Env {
		if vf := c.Env[j].ValueFrom; vf != nil && vf.FieldRef != nil {
			vf.FieldRef.FieldPath = fieldPath(vf.FieldRef.FieldPath)
		}
	}
}

func rewriteItems(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		if f := items[i].FieldRef; f != nil {
			f.FieldPath = fieldPath(f.FieldPath)
		}
	}
}

// fieldPath maps downward API paths whose host value differs to the origin annotations.
func fieldPath(p string) string {
	switch p {
	case "metadata.name":
		return "metadata.annotations['" + translate.AnnotationName + "']"
	case "metadata.namespace":
		return "metadata.annotations['" + translate.AnnotationNamespace + "']"
	}
	return p
}

func setEnv(env []corev1.EnvVar, name, value string) []corev1.EnvVar {
	for i := range env {
		if env[i].Name == name {
			env[i] = corev1.EnvVar{Name: name, Value: value}
			return env
		}
	}
	return append(env, corev1.EnvVar{Name: name, Value: value})
}

// rewriteDNS makes the pod resolve the virtual cluster's names, unless it chose its own DNS.
func rewriteDNS(spec *corev1.PodSpec, vns, server string) {
	if spec.DNSPolicy == corev1.DNSNone {
		return
	}
	spec.DNSPolicy = corev1.DNSNone
	spec.DNSConfig = &corev1.PodDNSConfig{
		Nameservers: []string{server},
		Searches:    []string{vns + ".svc.cluster.local", "svc.cluster.local", "cluster.local"},
		Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: new("5")}},
	}
}

// enforce merges the tenant's node selector (the tenant wins) and appends its tolerations.
func enforce(spec *corev1.PodSpec, p v1alpha1.PodPolicy) {
	if len(p.NodeSelector) > 0 {
		if spec.NodeSelector == nil {
			spec.NodeSelector = map[string]string{}
		}
		maps.Copy(spec.NodeSelector, p.NodeSelector)
	}
	spec.Tolerations = append(spec.Tolerations, p.Tolerations...)
}
