package pods

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// tokenSource is one token a pod mounts: the default token of the kube-api-access volume
// or a projected serviceAccountToken source. All of a pod's tokens live in its token Secret.
type tokenSource struct {
	// key is the token's key in the token Secret.
	key string
	// audience is the source's audience; empty means the virtual API server's.
	audience string
	// seconds is the source's expirationSeconds; 0 means the platform's lifetime.
	seconds int64
}

// tokenSources lists the tokens a pod mounts: the default token once if it has a
// kube-api-access volume, then one per projected serviceAccountToken source.
func tokenSources(spec *corev1.PodSpec) []tokenSource {
	var out []tokenSource
	for _, v := range spec.Volumes {
		if isTokenVolume(v) {
			if len(out) == 0 || out[0].key != corev1.ServiceAccountTokenKey {
				out = append([]tokenSource{{key: corev1.ServiceAccountTokenKey}}, out...)
			}
			continue
		}
		if v.Projected == nil {
			continue
		}
		for j, s := range v.Projected.Sources {
			if t := s.ServiceAccountToken; t != nil {
				out = append(out, tokenSource{key: projectedTokenKey(v.Name, j), audience: t.Audience, seconds: deref(t.ExpirationSeconds)})
			}
		}
	}
	return out
}

// projectedTokenKey is the token Secret key of source j of projected volume volume. It
// never equals "token": volume names hold no dot.
func projectedTokenKey(volume string, j int) string {
	return corev1.ServiceAccountTokenKey + "." + volume + "." + strconv.Itoa(j)
}

// replaceTokenSources turns every projected serviceAccountToken source into a projection
// of its key in the pod's token Secret: the host kubelet never mints a token, the virtual
// API server issued it.
func replaceTokenSources(spec *corev1.PodSpec, secret string) {
	for _, v := range spec.Volumes {
		if v.Projected == nil || isTokenVolume(v) {
			continue
		}
		for j, s := range v.Projected.Sources {
			if t := s.ServiceAccountToken; t != nil {
				v.Projected.Sources[j] = corev1.VolumeProjection{Secret: &corev1.SecretProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: secret},
					Items:                []corev1.KeyToPath{{Key: projectedTokenKey(v.Name, j), Path: t.Path}},
				}}
			}
		}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
