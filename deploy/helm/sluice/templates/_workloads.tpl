{{/*
Every workload of the release as a YAML list (fromYamlArray-free: wrapped in {workloads: [...]}): the Deployments
(collector, splitter, one per parsers[] entry, enricher, notifier) and the StatefulSets (detector, sink), each with
its merged settings, arguments, env, secret mounts and the consumers KEDA scales it on. All other templates range
over this one list, so a workload's Deployment, Service, HPA/ScaledObject, PDB and ServiceMonitor always agree.
*/}}
{{- define "sluice.workloads" -}}
{{- $root := . -}}
{{- $v := .Values -}}
{{- $out := list -}}
{{- $natsMounts := include "sluice.natsMounts" . | fromYamlArray -}}
{{- $storeEnvFrom := include "sluice.storeEnvFrom" . | fromYamlArray -}}

{{- if $v.services.collector.enabled -}}
{{- $mounts := $natsMounts -}}
{{- $ports := list -}}
{{- $http := (($v.pipeline.collector).http) | default dict -}}
{{- if $http.enabled -}}
{{- $mounts = append $mounts "http-token" -}}
{{- $ports = append $ports (dict "name" "http-ingest" "containerPort" (int ($http.port | default 8088)) "protocol" "TCP") -}}
{{- end -}}
{{- range $i, $sl := (($v.pipeline.collector).syslog) | default list -}}
{{- with $sl.udp }}{{ $ports = append $ports (dict "name" (printf "syslog-udp-%d" $i) "containerPort" (int (.port | default 514)) "protocol" "UDP") }}{{ end -}}
{{- with $sl.tcp }}{{ $ports = append $ports (dict "name" (printf "syslog-tcp-%d" $i) "containerPort" (int (.port | default 601)) "protocol" "TCP") }}{{ end -}}
{{- end -}}
{{- $out = append $out (dict "component" "collector" "service" "collector" "kind" "Deployment" "settings" (include "sluice.settings" (dict "root" $root "name" "collector") | fromYaml) "mounts" $mounts "envFrom" $storeEnvFrom "ports" $ports "consumers" list) -}}
{{- end -}}

{{- if $v.services.splitter.enabled -}}
{{- $out = append $out (dict "component" "splitter" "service" "splitter" "kind" "Deployment" "settings" (include "sluice.settings" (dict "root" $root "name" "splitter") | fromYaml) "mounts" $natsMounts "consumers" ((include "sluice.consumers" (dict "root" $root "name" "splitter") | fromYaml).consumers)) -}}
{{- end -}}

{{- $seen := dict -}}
{{- range $i, $p := $v.parsers -}}
{{- if hasKey $seen $p.name -}}
{{- fail (printf "parsers[%d].name %q is used twice: each parser Deployment needs its own name" $i $p.name) -}}
{{- end -}}
{{- $_ := set $seen $p.name true -}}
{{- $sources := list -}}
{{- range $p.sources -}}
{{- $sources = append $sources (pick . "source" "family" "categories") -}}
{{- end -}}
{{- $env := list (dict "name" "SLUICE__PARSER__SOURCES" "value" (toJson $sources)) -}}
{{- $consumers := (include "sluice.consumers" (dict "root" $root "name" "parser" "entry" $p) | fromYaml).consumers -}}
{{- $out = append $out (dict "component" (printf "parser-%s" $p.name) "service" "parser" "kind" "Deployment" "settings" (include "sluice.settings" (dict "root" $root "name" "parser" "entry" $p) | fromYaml) "mounts" $natsMounts "env" $env "consumers" $consumers) -}}
{{- end -}}

{{- if $v.services.enricher.enabled -}}
{{- $vols := list -}}
{{- $vmounts := list -}}
{{- with $v.services.enricher.geoip.volume -}}
{{- $vols = append $vols (merge (dict "name" "geoip") .) -}}
{{- $vmounts = append $vmounts (dict "name" "geoip" "mountPath" "/var/lib/sluice/geoip" "readOnly" true) -}}
{{- end -}}
{{- $settings := include "sluice.settings" (dict "root" $root "name" "enricher") | fromYaml -}}
{{- $out = append $out (dict "component" "enricher" "service" "enricher" "kind" "Deployment" "settings" $settings "mounts" $natsMounts "volumes" $vols "volumeMounts" $vmounts "consumers" ((include "sluice.consumers" (dict "root" $root "name" "enricher") | fromYaml).consumers)) -}}
{{- end -}}

{{- if $v.services.notifier.enabled -}}
{{- $mounts := $natsMounts -}}
{{- if $v.secrets.slackWebhook.existingSecret }}{{ $mounts = append $mounts "slack" }}{{ end -}}
{{- if $v.secrets.eventHubs.existingSecret }}{{ $mounts = append $mounts "eventhubs" }}{{ end -}}
{{- $out = append $out (dict "component" "notifier" "service" "notifier" "kind" "Deployment" "settings" (include "sluice.settings" (dict "root" $root "name" "notifier") | fromYaml) "mounts" $mounts "consumers" ((include "sluice.consumers" (dict "root" $root "name" "notifier") | fromYaml).consumers)) -}}
{{- end -}}

{{- if $v.services.detector.enabled -}}
{{- $out = append $out (dict "component" "detector" "service" "detector" "kind" "StatefulSet" "replicas" (include "sluice.detectorReplicas" $root | int) "replicaSection" "detector" "settings" (include "sluice.settings" (dict "root" $root "name" "detector") | fromYaml) "mounts" $natsMounts "consumers" list) -}}
{{- end -}}

{{- if $v.services.sink.enabled -}}
{{- $pv := $v.services.sink.persistence -}}
{{- $lake := (($v.pipeline.sink).lakePath) | default "./lake" -}}
{{- $sinkReplicas := include "sluice.sinkReplicas" $root | int -}}
{{- $sinkVols := list -}}
{{- $sinkMounts := list -}}
{{- if not (regexMatch "^[a-zA-Z][a-zA-Z0-9+.-]*://" $lake) -}}
{{- if and (not $pv.enabled) (not $v.services.sink.extraVolumeMounts) -}}
{{- fail (printf "pipeline.sink.lakePath %q is a local path but services.sink.persistence.enabled is false: the root filesystem is read-only; enable persistence or use an s3:// or az:// lake" $lake) -}}
{{- end -}}
{{- if $pv.enabled -}}
{{- if not (hasPrefix "/var/lib/sluice/lake" $lake) -}}
{{- fail (printf "pipeline.sink.lakePath %q must be /var/lib/sluice/lake (or below it), where services.sink.persistence mounts the lake volume" $lake) -}}
{{- end -}}
{{- if and (gt $sinkReplicas 1) (not $pv.existingClaim) -}}
{{- fail (printf "a local lakePath with %d sink replicas needs one volume they all share: set services.sink.persistence.existingClaim to a ReadWriteMany claim, or use an s3:// or az:// lake" $sinkReplicas) -}}
{{- end -}}
{{- $sinkMounts = append $sinkMounts (dict "name" "lake" "mountPath" "/var/lib/sluice/lake") -}}
{{- with $pv.existingClaim -}}
{{- $sinkVols = append $sinkVols (dict "name" "lake" "persistentVolumeClaim" (dict "claimName" .)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $out = append $out (dict "component" "sink" "service" "sink" "kind" "StatefulSet" "replicas" $sinkReplicas "replicaSection" "sink" "settings" (include "sluice.settings" (dict "root" $root "name" "sink") | fromYaml) "mounts" $natsMounts "envFrom" $storeEnvFrom "volumes" $sinkVols "volumeMounts" $sinkMounts "claimTemplate" (and (gt (len $sinkMounts) 0) (not $pv.existingClaim)) "consumers" list) -}}
{{- end -}}

{{- range $out -}}
{{- $a := .settings.autoscaling -}}
{{- if $a.enabled -}}
{{- if eq .kind "StatefulSet" -}}
{{- fail (printf "services.%s.autoscaling.enabled: the %s is a StatefulSet whose replicas own fixed partitions; scale it by its partitions (see docs/OPERATIONS.md), not an autoscaler" .component .component) -}}
{{- end -}}
{{- if and (eq $a.mode "keda") (not .consumers) -}}
{{- fail (printf "%s: autoscaling.mode keda needs a consumer to measure lag on, and the %s has none (the collector reads sources, a notifier without destinations reads nothing): use mode hpa" .component .component) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "workloads" $out) -}}
{{- end -}}
