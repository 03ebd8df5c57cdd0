package pods

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// RefKind is the kind of object a pod references by name.
type RefKind int

// The kinds of objects a pod references by name.
const (
	ConfigMapRef RefKind = iota
	SecretRef
	PVCRef
)

// tokenVolumePrefix names the projected volume the ServiceAccount admission plugin adds.
const tokenVolumePrefix = "kube-api-access-"

// isTokenVolume reports whether v is the service account token volume added by admission.
func isTokenVolume(v corev1.Volume) bool {
	return strings.HasPrefix(v.Name, tokenVolumePrefix) && v.Projected != nil
}

// VisitRefs calls f with a pointer to every configmap, secret and PVC name spec
// references, except inside the service account token volume.
func VisitRefs(spec *corev1.PodSpec, f func(kind RefKind, name *string)) {
	for i := range spec.Volumes {
		if !isTokenVolume(spec.Volumes[i]) {
			visitVolume(&spec.Volumes[i].VolumeSource, f)
		}
	}
	for i := range spec.ImagePullSecrets {
		f(SecretRef, &spec.ImagePullSecrets[i].Name)
	}
	for i := range spec.InitContainers {
		visitEnv(spec.InitContainers[i].Env, spec.InitContainers[i].EnvFrom, f)
	}
	for i := range spec.Containers {
		visitEnv(spec.Containers[i].Env, spec.Containers[i].EnvFrom, f)
	}
	for i := range spec.EphemeralContainers {
		c := &spec.EphemeralContainers[i].EphemeralContainerCommon
		visitEnv(c.Env, c.EnvFrom, f)
	}
}

func visitVolume(v *corev1.VolumeSource, f func(RefKind, *string)) {
	switch {
	case v.ConfigMap != nil:
		f(ConfigMapRef, &v.ConfigMap.Name)
	case v.Secret != nil:
		f(SecretRef, &v.Secret.SecretName)
	case v.PersistentVolumeClaim != nil:
		f(PVCRef, &v.PersistentVolumeClaim.ClaimName)
	case v.CSI != nil && v.CSI.NodePublishSecretRef != nil:
		f(SecretRef, &v.CSI.NodePublishSecretRef.Name)
	case v.Projected != nil:
		for i := range v.Projected.Sources {
			s := &v.Projected.Sources[i]
			if s.ConfigMap != nil {
				f(ConfigMapRef, &s.ConfigMap.Name)
			}
			if s.Secret != nil {
				f(SecretRef, &s.Secret.Name)
			}
		}
	}
}

func visitEnv(env []corev1.EnvVar, from []corev1.EnvFromSource, f func(RefKind, *string)) {
	for i := range env {
		vf := env[i].ValueFrom
		switch {
		case vf == nil:
		case vf.ConfigMapKeyRef != nil:
			f(ConfigMapRef, &vf.ConfigMapKeyRef.Name)
		case vf.SecretKeyRef != nil:
			f(SecretRef, &vf.SecretKeyRef.Name)
		}
	}
	for i := range from {
		if from[i].ConfigMapRef != nil {
			f(ConfigMapRef, &from[i].ConfigMapRef.Name)
		}
		if from[i].SecretRef != nil {
			f(SecretRef, &from[i].SecretRef.Name)
		}
	}
}

// Refs lists the names of the objects of one kind a pod references.
func Refs(pod *corev1.Pod, kind RefKind) []string {
	var out []string
	spec := pod.Spec.DeepCopy()
	VisitRefs(spec, func(k RefKind, name *string) {
		if k == kind && *name != "" {
			out = append(out, *name)
		}
	})
	return out
}
