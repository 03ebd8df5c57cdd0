package pvcs

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/tenantry/tenantry/syncer/allowlist"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Fields is the allow-list of a host claim (see package allowlist).
var Fields = allowlist.Join(allowlist.Metadata, allowlist.List{"spec.accessModes[]", "spec.resources.requests.storage", "spec.resources.limits.storage",
	"spec.storageClassName", "spec.volumeMode", "spec.dataSource.kind", "spec.dataSource.name",
	"spec.dataSourceRef.kind", "spec.dataSourceRef.name", "status"})

// Spec builds a claim spec from the allow-list: access modes, the storage request and
// limit, storage class and volume mode. A claim may not pick its volume (volumeName,
// selector): the host binds it. rename translates a data source naming a claim of the
// same virtual namespace; nil (ephemeral volumes) refuses every data source, as does any
// other kind of source. path prefixes the refused fields.
func Spec(path string, v *corev1.PersistentVolumeClaimSpec, rename func(string) string, refused *translate.Refusals) corev1.PersistentVolumeClaimSpec {
	if v.VolumeName != "" {
		refused.Add(path+".volumeName", "a claim cannot choose its host volume")
	}
	if v.Selector != nil {
		refused.Add(path+".selector", "a claim cannot choose its host volume")
	}
	s := corev1.PersistentVolumeClaimSpec{StorageClassName: cp(v.StorageClassName), VolumeMode: cp(v.VolumeMode)}
	if v.AccessModes != nil {
		s.AccessModes = append([]corev1.PersistentVolumeAccessMode{}, v.AccessModes...)
	}
	s.Resources.Requests = storage(v.Resources.Requests)
	s.Resources.Limits = storage(v.Resources.Limits)
	if ds := v.DataSource; ds != nil {
		if name, ok := source(ds.APIGroup, ds.Kind, ds.Name, nil, rename); ok {
			s.DataSource = &corev1.TypedLocalObjectReference{Kind: Kind, Name: name}
		} else {
			refused.Add(path+".dataSource", dataSourceReason)
		}
	}
	if ds := v.DataSourceRef; ds != nil {
		if name, ok := source(ds.APIGroup, ds.Kind, ds.Name, ds.Namespace, rename); ok {
			s.DataSourceRef = &corev1.TypedObjectReference{Kind: Kind, Name: name}
		} else {
			refused.Add(path+".dataSourceRef", dataSourceReason)
		}
	}
	return s
}

const dataSourceReason = "only another claim of the same namespace may be a data source"

func source(group *string, kind, name string, ns *string, rename func(string) string) (string, bool) {
	if rename == nil || (group != nil && *group != "") || kind != Kind || (ns != nil && *ns != "") {
		return "", false
	}
	return rename(name), true
}

// storage keeps the storage entry of a resource list.
func storage(in corev1.ResourceList) corev1.ResourceList {
	q, ok := in[corev1.ResourceStorage]
	if !ok {
		return nil
	}
	return corev1.ResourceList{corev1.ResourceStorage: q.DeepCopy()}
}

func cp[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
