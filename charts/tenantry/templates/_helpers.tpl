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
