package pods

import (
	"maps"
	"reflect"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/tenantry/tenantry/api/podtokens"
	"github.com/tenantry/tenantry/syncer/pvcs"
	"github.com/tenantry/tenantry/syncer/translate"
)

// volumeTypes are the volume types Pod Security baseline allows (hostPath needs
// spec.pods.allowHostPath); every other type, known today or added later, is refused.
var volumeTypes = map[string]bool{"configMap": true, "csi": true, "downwardAPI": true, "emptyDir": true, "ephemeral": true,
	"persistentVolumeClaim": true, "projected": true, "secret": true, "hostPath": true}

const volumeReason = "only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes " +
	"(and hostPath with spec.pods.allowHostPath) are allowed"

func (b *specBuilder) volumes(in []corev1.Volume) []corev1.Volume {
	if in == nil {
		return nil
	}
	out := make([]corev1.Volume, 0, len(in))
	for i := range in {
		path := "spec.volumes[" + strconv.Itoa(i) + "]"
		out = append(out, corev1.Volume{Name: in[i].Name, VolumeSource: b.volume(path, &in[i])})
	}
	return out
}

// volume builds the one source of a volume. The token volume is kept as a placeholder the
// rewrite replaces with the syncer's token Secret.
func (b *specBuilder) volume(path string, v *corev1.Volume) corev1.VolumeSource {
	set := setFields(&v.VolumeSource)
	if len(set) != 1 || !volumeTypes[set[0]] {
		field := path
		if len(set) > 0 {
			field = path + "." + strings.Join(set, ",")
		}
		b.refuse(field, volumeReason)
		return corev1.VolumeSource{}
	}
	s := &v.VolumeSource
	switch {
	case isTokenVolume(*v):
		return corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: cp(s.Projected.DefaultMode)}}
	case s.HostPath != nil:
		if !b.policy.AllowHostPath {
			b.refuse(path+".hostPath", notSet("allowHostPath"))
		}
		return corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: s.HostPath.Path, Type: cp(s.HostPath.Type)}}
	case s.EmptyDir != nil:
		return corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: s.EmptyDir.Medium, SizeLimit: cp(s.EmptyDir.SizeLimit)}}
	case s.Secret != nil:
		return corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: s.Secret.SecretName, Items: keyPaths(s.Secret.Items),
			DefaultMode: cp(s.Secret.DefaultMode), Optional: cp(s.Secret.Optional)}}
	case s.ConfigMap != nil:
		return corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: s.ConfigMap.Name},
			Items: keyPaths(s.ConfigMap.Items), DefaultMode: cp(s.ConfigMap.DefaultMode), Optional: cp(s.ConfigMap.Optional)}}
	case s.PersistentVolumeClaim != nil:
		return corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
			ClaimName: s.PersistentVolumeClaim.ClaimName, ReadOnly: s.PersistentVolumeClaim.ReadOnly}}
	case s.DownwardAPI != nil:
		return corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: downwardItems(s.DownwardAPI.Items),
			DefaultMode: cp(s.DownwardAPI.DefaultMode)}}
	case s.CSI != nil:
		return corev1.VolumeSource{CSI: csi(s.CSI)}
	case s.Ephemeral != nil:
		return corev1.VolumeSource{Ephemeral: b.ephemeral(path+".ephemeral", s.Ephemeral)}
	default:
		return corev1.VolumeSource{Projected: b.projected(path+".projected", s.Projected)}
	}
}

func csi(v *corev1.CSIVolumeSource) *corev1.CSIVolumeSource {
	out := &corev1.CSIVolumeSource{Driver: v.Driver, ReadOnly: cp(v.ReadOnly), FSType: cp(v.FSType), VolumeAttributes: maps.Clone(v.VolumeAttributes)}
	if v.NodePublishSecretRef != nil {
		out.NodePublishSecretRef = &corev1.LocalObjectReference{Name: v.NodePublishSecretRef.Name}
	}
	return out
}

// ephemeral builds a generic ephemeral volume's claim template like a synced claim, with
// no data source: the claim is made by the host, in the host namespace.
func (b *specBuilder) ephemeral(path string, v *corev1.EphemeralVolumeSource) *corev1.EphemeralVolumeSource {
	if v.VolumeClaimTemplate == nil {
		return &corev1.EphemeralVolumeSource{}
	}
	tmpl := v.VolumeClaimTemplate
	out := &corev1.PersistentVolumeClaimTemplate{Spec: pvcs.Spec(path+".volumeClaimTemplate.spec", &tmpl.Spec, nil, b.refused)}
	out.Labels, out.Annotations = b.templateMeta(path+".volumeClaimTemplate.metadata", tmpl.Labels, tmpl.Annotations)
	return &corev1.EphemeralVolumeSource{VolumeClaimTemplate: out}
}

// templateMeta filters a claim template's labels (reserved keys refused) and
// annotations (the default allow-list).
func (b *specBuilder) templateMeta(path string, labels, annotations map[string]string) (map[string]string, map[string]string) {
	var outL, outA map[string]string
	for k, v := range labels {
		if translate.ReservedKey(k) {
			b.refuse(path+`.labels["`+k+`"]`, "the tenantry.dev domain is reserved for the platform")
			continue
		}
		if outL == nil {
			outL = map[string]string{}
		}
		outL[k] = v
	}
	for k, v := range annotations {
		if translate.AllowedAnnotation(k) {
			if outA == nil {
				outA = map[string]string{}
			}
			outA[k] = v
		}
	}
	return outL, outA
}

// projected copies configMap, secret, downwardAPI and serviceAccountToken sources. A
// serviceAccountToken source is kept only until the rewrite turns it into a projection of
// the pod's token Secret (replaceTokenSources): left as it is, the host kubelet would mint
// a host token. Sources the syncer cannot translate are refused.
func (b *specBuilder) projected(path string, v *corev1.ProjectedVolumeSource) *corev1.ProjectedVolumeSource {
	out := &corev1.ProjectedVolumeSource{DefaultMode: cp(v.DefaultMode), Sources: make([]corev1.VolumeProjection, 0, len(v.Sources))}
	for i := range v.Sources {
		s, p := &v.Sources[i], path+".sources["+strconv.Itoa(i)+"]"
		set := setFields(s)
		switch {
		case len(set) != 1:
			b.refuse(p, "a projected source has exactly one of configMap, secret, downwardAPI or serviceAccountToken")
		case s.ServiceAccountToken != nil:
			out.Sources = append(out.Sources, corev1.VolumeProjection{ServiceAccountToken: b.serviceAccountToken(p+".serviceAccountToken", s.ServiceAccountToken)})
		case s.ConfigMap != nil:
			out.Sources = append(out.Sources, corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: s.ConfigMap.Name}, Items: keyPaths(s.ConfigMap.Items), Optional: cp(s.ConfigMap.Optional)}})
		case s.Secret != nil:
			out.Sources = append(out.Sources, corev1.VolumeProjection{Secret: &corev1.SecretProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: s.Secret.Name}, Items: keyPaths(s.Secret.Items), Optional: cp(s.Secret.Optional)}})
		case s.DownwardAPI != nil:
			out.Sources = append(out.Sources, corev1.VolumeProjection{DownwardAPI: &corev1.DownwardAPIProjection{Items: downwardItems(s.DownwardAPI.Items)}})
		default:
			b.refuse(p+"."+set[0], "only configMap, secret, downwardAPI and serviceAccountToken sources are supported")
		}
	}
	return out
}

// serviceAccountToken checks a projected token source as the API does and copies it.
func (b *specBuilder) serviceAccountToken(path string, t *corev1.ServiceAccountTokenProjection) *corev1.ServiceAccountTokenProjection {
	if t.ExpirationSeconds != nil && *t.ExpirationSeconds < podtokens.MinTokenSeconds {
		b.refuse(path+".expirationSeconds", "shorter than "+strconv.FormatInt(podtokens.MinTokenSeconds, 10)+" seconds, the least the API allows")
	}
	if t.Path == "" {
		b.refuse(path+".path", "a token needs a path")
	}
	return &corev1.ServiceAccountTokenProjection{Audience: t.Audience, ExpirationSeconds: cp(t.ExpirationSeconds), Path: t.Path}
}

func keyPaths(in []corev1.KeyToPath) []corev1.KeyToPath {
	return convert(in, func(k corev1.KeyToPath) corev1.KeyToPath {
		return corev1.KeyToPath{Key: k.Key, Path: k.Path, Mode: cp(k.Mode)}
	})
}

func downwardItems(in []corev1.DownwardAPIVolumeFile) []corev1.DownwardAPIVolumeFile {
	return convert(in, func(f corev1.DownwardAPIVolumeFile) corev1.DownwardAPIVolumeFile {
		return corev1.DownwardAPIVolumeFile{Path: f.Path, FieldRef: fieldRef(f.FieldRef), ResourceFieldRef: resourceFieldRef(f.ResourceFieldRef), Mode: cp(f.Mode)}
	})
}

// setFields lists the JSON names of the non-nil pointer fields of *s, a one-of struct
// such as VolumeSource: a type added by a later Kubernetes shows up here by its name.
func setFields(s any) []string {
	v := reflect.ValueOf(s).Elem()
	var out []string
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}
