{{/*
Names, labels, the merged settings of a workload, the rendered pipeline config and the pod template every workload
shares. Workloads differ only in the service they run, their arguments and which secrets they mount.
*/}}

{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sluice.fullname" -}}
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

{{/* A workload's name: <fullname>-<component>, e.g. sluice-parser-defender. */}}
{{- define "sluice.componentName" -}}
{{- printf "%s-%s" (include "sluice.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: sluice
{{- end -}}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sluice.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sluice.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The settings of one workload: defaults ← services.<name> (← parser entry for parsers), as YAML (fromYaml it).
Usage: include "sluice.settings" (dict "root" $ "name" "collector" ["entry" $parserEntry])
*/}}
{{- define "sluice.settings" -}}
{{- $s := deepCopy .root.Values.defaults -}}
{{- $s = mustMergeOverwrite $s (deepCopy (default dict (index .root.Values.services .name))) -}}
{{- if .entry -}}
{{- $s = mustMergeOverwrite $s (omit (deepCopy .entry) "name" "sources") -}}
{{- end -}}
{{- toYaml $s -}}
{{- end -}}

{{/* Replicas of a StatefulSet: the given count, else the partitions; fails unless it divides the partitions. */}}
{{- define "sluice.statefulReplicas" -}}
{{- $replicas := .replicas | default .partitions | int -}}
{{- if or (lt $replicas 1) (gt $replicas (int .partitions)) (ne (mod (int .partitions) $replicas) 0) -}}
{{- fail (printf "services.%s.replicas is %d but must divide %s = %d: each replica owns the partitions p with p %% replicas == replica, the same number each (set it to %d or a divisor of it)" .name $replicas .partitionsKey (int .partitions) (int .partitions)) -}}
{{- end -}}
{{- $replicas -}}
{{- end -}}

{{- define "sluice.sinkReplicas" -}}
{{- include "sluice.statefulReplicas" (dict "name" "sink" "replicas" .Values.services.sink.replicas "partitions" (.Values.pipeline.streams.eventPartitions | default 1) "partitionsKey" "pipeline.streams.eventPartitions") -}}
{{- end -}}

{{- define "sluice.detectorReplicas" -}}
{{- include "sluice.statefulReplicas" (dict "name" "detector" "replicas" .Values.services.detector.replicas "partitions" ((.Values.pipeline.detector).partitions | default 16) "partitionsKey" "pipeline.detector.partitions") -}}
{{- end -}}

{{/* Mount points of the secrets (files the services read through their *File keys). */}}
{{- define "sluice.secretDir" -}}/etc/sluice/secrets{{- end -}}

{{/*
The pipeline YAML: .Values.pipeline with the keys the chart owns laid over it.
*/}}
{{- define "sluice.pipeline" -}}
{{- $p := deepCopy .Values.pipeline -}}
{{- $dir := include "sluice.secretDir" . -}}
{{- $own := dict "nats" (include "sluice.natsSection" . | fromYaml) "http" (dict "host" "0.0.0.0" "port" (int .Values.metrics.port)) -}}
{{- $_ := set $own "sink" (dict "replicas" (include "sluice.sinkReplicas" . | int)) -}}
{{- $_ := set $own "detector" (dict "replicas" (include "sluice.detectorReplicas" . | int)) -}}
{{- $collector := dict -}}
{{- if ((($p.collector).http).enabled) -}}
{{- if not .Values.secrets.httpToken.existingSecret -}}
{{- fail "pipeline.collector.http.enabled needs secrets.httpToken.existingSecret: in a cluster the HTTP source listens beyond loopback and the collector refuses to start without a bearer token" -}}
{{- end -}}
{{- $_ := set $collector "http" (dict "host" "0.0.0.0" "tokenFile" (printf "%s/http-token/%s" $dir .Values.secrets.httpToken.key)) -}}
{{- end -}}
{{- if $collector -}}{{- $_ := set $own "collector" $collector -}}{{- end -}}
{{- $notifier := dict -}}
{{- if .Values.secrets.slackWebhook.existingSecret -}}
{{- $_ := set $notifier "slack" (dict "webhookUrlFile" (printf "%s/slack/%s" $dir .Values.secrets.slackWebhook.key)) -}}
{{- end -}}
{{- if .Values.secrets.eventHubs.existingSecret -}}
{{- $eh := dict -}}
{{- range $dest := list "kafka" "https" -}}
{{- if hasKey ((($p.notifier).eventhubs) | default dict) $dest -}}
{{- $_ := set $eh $dest (dict "connectionStringFile" (printf "%s/eventhubs/%s" $dir $.Values.secrets.eventHubs.key)) -}}
{{- end -}}
{{- end -}}
{{- if $eh -}}{{- $_ := set $notifier "eventhubs" $eh -}}{{- end -}}
{{- end -}}
{{- if $notifier -}}{{- $_ := set $own "notifier" $notifier -}}{{- end -}}
{{- /* The detector (IoC table) and the enricher (ip_lookup table) load state from the lake the sink writes; a local
lake lives on the sink's volume only, so they then rebuild from the streams. */ -}}
{{- with (($p.sink).lakePath) | default "" | regexFind "^[a-z0-9]+://.*" -}}
{{- if not ((($p.detector).ioc).lakePath) -}}{{- $_ := set $own "detector" (merge $own.detector (dict "ioc" (dict "lakePath" .))) -}}{{- end -}}
{{- if not ((($p.enricher).attribution).lakePath) -}}{{- $_ := set $own "enricher" (dict "attribution" (dict "lakePath" .)) -}}{{- end -}}
{{- end -}}
{{- toYaml (mustMergeOverwrite $p $own) -}}
{{- end -}}

{{/*
The durable consumers a workload reads (stream + consumer), for KEDA's nats-jetstream triggers, as YAML list.
Usage: include "sluice.consumers" (dict "root" $ "name" "splitter" ["entry" $parserEntry])
*/}}
{{- define "sluice.consumers" -}}
{{- $root := .root -}}
{{- $out := list -}}
{{- if eq .name "splitter" -}}
{{- range (($root.Values.pipeline.splitter).sources | default (list "defender")) -}}
{{- $src := . -}}
{{- if kindIs "map" . -}}{{- $src = .source -}}{{- end -}}
{{- $out = append $out (dict "stream" "RAW" "consumer" (printf "splitter-%s" $src)) -}}
{{- end -}}
{{- else if eq .name "enricher" -}}
{{- $out = append $out (dict "stream" "PARSED" "consumer" "enricher") -}}
{{- else if eq .name "notifier" -}}
{{- $n := $root.Values.pipeline.notifier | default dict -}}
{{- if (($n.slack) | default dict).enabled -}}{{- $out = append $out (dict "stream" "ALERTS" "consumer" "notifier-slack") -}}{{- end -}}
{{- range $dest := list "kafka" "https" -}}
{{- $d := get ((($n.eventhubs) | default dict)) $dest -}}
{{- if and $d (ne (toString (get $d "enabled")) "false") -}}{{- $out = append $out (dict "stream" "ALERTS" "consumer" (printf "notifier-eventhubs-%s" $dest)) -}}{{- end -}}
{{- end -}}
{{- else if eq .name "parser" -}}
{{- $families := $root.Files.Get "files/families.yaml" | fromYaml -}}
{{- $entryName := .entry.name -}}
{{- range $i, $sel := .entry.sources -}}
{{- $family := $sel.family | default $sel.source -}}
{{- if not (hasKey $families $family) -}}
{{- fail (printf "parsers[%s].sources[%d]: unknown family %q (source %q); known: %s" $entryName $i $family $sel.source (keys $families | sortAlpha | join ", ")) -}}
{{- end -}}
{{- $known := get $families $family -}}
{{- $cats := $sel.categories | default $known -}}
{{- range $cats -}}
{{- if not (has . $known) -}}
{{- fail (printf "parsers[%s].sources[%d].categories: %q is not a category of family %s; known: %s" $entryName $i . $family (join ", " $known)) -}}
{{- end -}}
{{- $out = append $out (dict "stream" "CATEGORIZED" "consumer" (printf "parser-%s-%s" $sel.source .)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "consumers" $out) -}}
{{- end -}}

{{/*
The pod spec of every workload.
dict: root, component, settings (merged), service (collector, parser, …), args (list), env (list),
      replicaSection ("" or sink/detector), mounts (list of secret names: http-token slack eventhubs nats),
      envFrom (list of Secret names), volumes / volumeMounts (extra lists), ports (extra container ports)
*/}}
{{- define "sluice.podSpec" -}}
{{- $root := .root -}}
{{- $s := .settings -}}
{{- $dir := include "sluice.secretDir" $root -}}
serviceAccountName: {{ include "sluice.serviceAccountName" $root }}
automountServiceAccountToken: {{ $root.Values.serviceAccount.automountToken }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
securityContext: {{- toYaml $s.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ $s.terminationGracePeriodSeconds }}
{{- with $s.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $s.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $s.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $s.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $s.topologySpreadConstraints }}
topologySpreadConstraints: {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: {{ .service }}
    image: {{ include "sluice.image" $root }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args:
      - {{ .service }}
      - --config
      - /etc/sluice/pipeline.yaml
      {{- range .args }}
      - {{ . | quote }}
      {{- end }}
      {{- range $s.extraArgs }}
      - {{ . | quote }}
      {{- end }}
    env:
      - name: SLUICE_POD_NAME
        valueFrom: {fieldRef: {fieldPath: metadata.name}}
      - name: SLUICE_HEALTH_PORT
        value: {{ $root.Values.metrics.port | quote }}
      {{- if .replicaSection }}
      - name: SLUICE_REPLICA_SECTION
        value: {{ .replicaSection }}
      {{- end }}
      {{- include "sluice.natsEnv" $root | nindent 6 }}
      {{- with .env }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
      {{- with $s.extraEnv }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- if or .envFrom $s.extraEnvFrom }}
    envFrom:
      {{- range .envFrom }}
      - secretRef: {name: {{ . }}}
      {{- end }}
      {{- with $s.extraEnvFrom }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- end }}
    ports:
      - name: metrics
        containerPort: {{ $root.Values.metrics.port }}
        protocol: TCP
      {{- with .ports }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    startupProbe:
      httpGet: {path: /healthz, port: metrics}
      periodSeconds: 5
      failureThreshold: 60
    livenessProbe:
      httpGet: {path: /healthz, port: metrics}
      periodSeconds: 10
      failureThreshold: 6
    readinessProbe:
      httpGet: {path: /readyz, port: metrics}
      periodSeconds: 10
      failureThreshold: 3
    resources: {{- toYaml $s.resources | nindent 6 }}
    securityContext: {{- toYaml $s.securityContext | nindent 6 }}
    volumeMounts:
      - name: config
        mountPath: /etc/sluice/pipeline.yaml
        subPath: pipeline.yaml
        readOnly: true
      - name: tmp
        mountPath: /tmp
      {{- range .mounts }}
      - name: secret-{{ . }}
        mountPath: {{ printf "%s/%s" $dir . }}
        readOnly: true
      {{- end }}
      {{- with .volumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
      {{- with $s.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
volumes:
  - name: config
    configMap:
      name: {{ include "sluice.fullname" $root }}-pipeline
  - name: tmp
    emptyDir:
      sizeLimit: {{ $s.tmpSizeLimit }}
  {{- range .mounts }}
  - name: secret-{{ . }}
    secret:
      secretName: {{ include "sluice.mountSecretName" (dict "root" $root "mount" .) }}
  {{- end }}
  {{- with .volumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
  {{- with $s.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{- define "sluice.mountSecretName" -}}
{{- $v := .root.Values -}}
{{- if eq .mount "http-token" }}{{ $v.secrets.httpToken.existingSecret }}
{{- else if eq .mount "slack" }}{{ $v.secrets.slackWebhook.existingSecret }}
{{- else if eq .mount "eventhubs" }}{{ $v.secrets.eventHubs.existingSecret }}
{{- else if eq .mount "nats" }}{{ $v.nats.auth.existingSecret }}
{{- else if eq .mount "nats-tls" }}{{ $v.nats.tls.existingSecret }}
{{- else }}{{ fail (printf "internal: unknown secret mount %s" .mount) }}
{{- end -}}
{{- end -}}

{{/* Secret mounts every workload has: NATS credentials files (creds, nkey seed) and NATS TLS files. */}}
{{- define "sluice.natsMounts" -}}
{{- $out := list -}}
{{- $auth := .Values.nats.auth -}}
{{- if and $auth.existingSecret (or $auth.credsKey $auth.nkeySeedKey) }}{{ $out = append $out "nats" }}{{ end -}}
{{- if (.Values.nats.tls).existingSecret }}{{ $out = append $out "nats-tls" }}{{ end -}}
{{- toYaml $out -}}
{{- end -}}

{{/*
The pipeline's nats section: the URL, and the paths of the mounted credentials and TLS files (paths only: the
password and token come from the Secret as env, see sluice.natsEnv).
*/}}
{{- define "sluice.natsSection" -}}
{{- $dir := include "sluice.secretDir" . -}}
{{- $auth := .Values.nats.auth -}}
{{- $tls := .Values.nats.tls | default dict -}}
{{- $n := dict "url" .Values.nats.url -}}
{{- if and $auth.credsKey $auth.nkeySeedKey -}}
{{- fail "nats.auth: set credsKey or nkeySeedKey, not both (one authentication method)" -}}
{{- end -}}
{{- if and (or $auth.credsKey $auth.nkeySeedKey $auth.userKey $auth.passwordKey $auth.tokenKey) (not $auth.existingSecret) -}}
{{- fail "nats.auth: the *Key settings name keys of nats.auth.existingSecret, which is empty" -}}
{{- end -}}
{{- if $auth.existingSecret -}}
{{- with $auth.credsKey }}{{ $_ := set $n "credsFile" (printf "%s/nats/%s" $dir .) }}{{ end -}}
{{- with $auth.nkeySeedKey }}{{ $_ := set $n "nkeySeedFile" (printf "%s/nats/%s" $dir .) }}{{ end -}}
{{- end -}}
{{- if $tls.existingSecret -}}
{{- $t := dict -}}
{{- with $tls.caKey }}{{ $_ := set $t "caFile" (printf "%s/nats-tls/%s" $dir .) }}{{ end -}}
{{- if and $tls.certKey $tls.keyKey -}}
{{- $_ := set $t "certFile" (printf "%s/nats-tls/%s" $dir $tls.certKey) -}}
{{- $_ := set $t "keyFile" (printf "%s/nats-tls/%s" $dir $tls.keyKey) -}}
{{- else if or $tls.certKey $tls.keyKey -}}
{{- fail "nats.tls: certKey and keyKey go together (a client certificate and its key)" -}}
{{- end -}}
{{- if $tls.handshakeFirst }}{{ $_ := set $t "handshakeFirst" true }}{{ end -}}
{{- $_ := set $n "tls" $t -}}
{{- end -}}
{{- toYaml $n -}}
{{- end -}}

{{/* Object-store credential Secrets (envFrom) for the collector and the sink. */}}
{{- define "sluice.storeEnvFrom" -}}
{{- $out := list -}}
{{- with .Values.secrets.s3.existingSecret }}{{ $out = append $out . }}{{ end -}}
{{- with .Values.secrets.azure.existingSecret }}{{ $out = append $out . }}{{ end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* NATS user, password and token as env from the Secret (SLUICE__NATS__USER/PASS/TOKEN); files are in the pipeline's nats section. */}}
{{- define "sluice.natsEnv" -}}
{{- $auth := .Values.nats.auth -}}
{{- if $auth.existingSecret -}}
{{- range $var, $key := dict "SLUICE__NATS__USER" $auth.userKey "SLUICE__NATS__PASS" $auth.passwordKey "SLUICE__NATS__TOKEN" $auth.tokenKey }}
{{- if $key }}
- name: {{ $var }}
  valueFrom: {secretKeyRef: {name: {{ $auth.existingSecret }}, key: {{ $key }}}}
{{- end }}
{{- end }}
{{- end -}}
{{- end -}}
