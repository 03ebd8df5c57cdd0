{{- define "tenantry.fullname" -}}
{{- if contains "tenantry" .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{ else }}{{ printf "%s-tenantry" .Release.Name | trunc 63 | trimSuffix "-" }}{{ end -}}
{{- end -}}

{{- define "tenantry.selectorLabels" -}}
app.kubernetes.io/name: tenantry
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tenantry.labels" -}}
{{ include "tenantry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tenantry.gitSecret" -}}
{{- default (printf "%s-git" (include "tenantry.fullname" .)) .Values.gitCredentials.existingSecret -}}
{{- end -}}

{{- define "tenantry.notifySecret" -}}
{{- default (printf "%s-notify" (include "tenantry.fullname" .)) .Values.notifications.existingSecret -}}
{{- end -}}

{{- define "tenantry.hookSecret" -}}
{{- default (printf "%s-hook" (include "tenantry.fullname" .)) .Values.hook.existingSecret -}}
{{- end -}}

{{- define "tenantry.hasGit" -}}
{{- if or .Values.gitCredentials.existingSecret .Values.gitCredentials.data }}true{{ end -}}
{{- end -}}

{{- define "tenantry.hasNotify" -}}
{{- if or .Values.notifications.existingSecret .Values.notifications.config }}true{{ end -}}
{{- end -}}

{{- define "tenantry.hasHook" -}}
{{- if or .Values.hook.existingSecret .Values.hook.secret }}true{{ end -}}
{{- end -}}

{{/* The fixed ClusterRoles' names (files/clusterroles/<name>.yaml), as a JSON list. */}}
{{- define "tenantry.fixedClusterRoles" -}}
{{- $names := list -}}
{{- range $path, $_ := .Files.Glob "files/clusterroles/*.yaml" -}}
{{- $names = append $names (base $path | trimSuffix ".yaml") -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/* The fixed ClusterRoles the agent may bind cluster-wide: the read-only ones. */}}
{{- define "tenantry.clusterWideRoles" -}}
{{- toJson (list "tenantry-vcluster-nodes" "tenantry-vcluster-storageclasses") -}}
{{- end -}}

{{/* The agent's user name, as the API server sees it. */}}
{{- define "tenantry.agentUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "tenantry.fullname" .) -}}
{{- end -}}

{{/* Namespaces the agent may never change: default, kube-*, its own, and the values'. */}}
{{- define "tenantry.protectedNamespaces" -}}
{{- toJson (concat (list "default" .Release.Namespace) (.Values.protectedNamespaces | default list)) -}}
{{- end -}}

{{/* The host guards' ValidatingAdmissionPolicies and bindings (policy/guards.Names(); a
charts test keeps this list equal to it). */}}
{{- define "tenantry.guardNames" -}}
{{- toJson (list "tenantry-guard-endpoints" "tenantry-guard-endpointslices" "tenantry-guard-ingresses" "tenantry-guard-labels" "tenantry-guard-networkpolicies" "tenantry-guard-ownership" "tenantry-guard-pods" "tenantry-guard-pvcs" "tenantry-guard-secrets" "tenantry-guard-services") -}}
{{- end -}}
