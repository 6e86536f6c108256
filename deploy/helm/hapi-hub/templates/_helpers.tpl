{{/* Names and labels shared by every template. */}}
{{- define "hapi-hub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hapi-hub.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "hapi-hub.redisName" -}}
{{- printf "%s-redis" (include "hapi-hub.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "hapi-hub.secretName" -}}
{{- default (include "hapi-hub.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Selector labels: immutable once deployed, so only name + instance + component. */}}
{{- define "hapi-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hapi-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: hub
{{- end -}}

{{- define "hapi-hub.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "hapi-hub.name" . }}-redis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "hapi-hub.commonLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: hapi-hub-cluster
{{- end -}}

{{- define "hapi-hub.labels" -}}
{{ include "hapi-hub.selectorLabels" . }}
{{ include "hapi-hub.commonLabels" . }}
{{- end -}}

{{- define "hapi-hub.redisLabels" -}}
{{ include "hapi-hub.redisSelectorLabels" . }}
{{ include "hapi-hub.commonLabels" . }}
{{- end -}}

{{- define "hapi-hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "hapi-hub.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* True (non-empty) when the image has no registry host, i.e. it must be built and loaded into the nodes. */}}
{{- define "hapi-hub.imageIsLocal" -}}
{{- if not (contains "/" .Values.image.repository) -}}true{{- end -}}
{{- end -}}

{{- define "hapi-hub.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* preStop + drain + 10 s margin unless set: SIGKILL must only hit a drain that hangs. */}}
{{- define "hapi-hub.terminationGracePeriodSeconds" -}}
{{- if gt (int .Values.terminationGracePeriodSeconds) 0 -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add (int .Values.hub.preStopSleepSeconds) (div (add (int64 .Values.hub.drainTimeoutMs) 999) 1000) 10 -}}
{{- end -}}
{{- end -}}

{{/* Where REDIS_URL comes from: "configmap", "secret" (chart's), or "existingSecret". */}}
{{- define "hapi-hub.redisUrlSource" -}}
{{- if .Values.redis.internal.enabled -}}configmap
{{- else if and .Values.redis.external.url (not .Values.secrets.existingSecret) -}}secret
{{- else if .Values.redis.external.url -}}configmap
{{- else if .Values.secrets.existingSecret -}}existingSecret
{{- else -}}
{{- fail "hapi-hub: Redis is required (pods share state through it): enable redis.internal, set redis.external.url, or put REDIS_URL in secrets.existingSecret" -}}
{{- end -}}
{{- end -}}

{{- define "hapi-hub.redisUrl" -}}
{{- if .Values.redis.internal.enabled -}}
{{- printf "redis://%s:6379" (include "hapi-hub.redisName" .) -}}
{{- else -}}
{{- .Values.redis.external.url -}}
{{- end -}}
{{- end -}}
