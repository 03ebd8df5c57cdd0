{{/* The virtual cluster's name: the tenant's name, default the release name. */}}
{{- define "vcluster.name" -}}
{{- default .Release.Name .Values.name -}}
{{- end -}}

{{/* Name of the namespaced objects: vc-<name>. */}}
{{- define "vcluster.fullname" -}}
{{- printf "vc-%s" (include "vcluster.name" .) -}}
{{- end -}}

{{/* Name of the cluster-scoped objects: unique per host namespace. */}}
{{- define "vcluster.clusterName" -}}
{{- printf "tenantry-vcluster-%s-%s" .Release.Namespace (include "vcluster.name" .) | trunc 253 -}}
{{- end -}}

{{- define "vcluster.kubeconfigSecret" -}}
{{- default (printf "vc-%s-kubeconfig" (include "vcluster.name" .)) .Values.kubeconfigSecret -}}
{{- end -}}

{{- define "vcluster.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Values.kubernetesVersion .Values.image.tag) -}}
{{- end -}}

{{/* Selector labels of the control plane pod. */}}
{{- define "vcluster.selectorLabels" -}}
app.kubernetes.io/name: tenantry-vcluster
app.kubernetes.io/instance: {{ include "vcluster.name" . }}
{{- end -}}

{{- define "vcluster.labels" -}}
{{ include "vcluster.selectorLabels" . }}
app.kubernetes.io/component: control-plane
app.kubernetes.io/version: {{ .Values.kubernetesVersion | quote }}
{{- end -}}

{{/* clusterAccess is "true" when the syncer needs the read-only ClusterRole. */}}
{{- define "vcluster.clusterAccess" -}}
{{- if or (dig "nodes" "enabled" false .Values.sync) (dig "hostStorageClasses" false .Values.sync) }}true{{ end -}}
{{- end -}}

{{/* The control-plane pod's reserved label, which the syncer never copies to a host pod;
the Service selects on it alone. */}}
{{- define "vcluster.controlPlaneLabel" -}}
vcluster.tenantry.dev/control-plane: {{ include "vcluster.name" . }}
{{- end -}}
