#!/bin/sh
# Selects what the container runs: a service (`collector`, `splitter`, `parser`, `enricher`, `detector`, `notifier`,
# `sink`) or the CLI (`sluice <command>`, e.g. `sluice provision --config /etc/sluice/pipeline.yaml`). Remaining
# arguments go to it (--config FILE, --set key=value, --source S, …).
#
# StatefulSet pods: when SLUICE_REPLICA_SECTION is set (sink or detector), the pod's ordinal (the number at the end
# of SLUICE_POD_NAME, else of the hostname, e.g. sluice-sink-2 → 2) becomes `<section>.replica`, so each replica owns
# its partitions (p % replicas == replica) without a per-pod configuration.
set -eu

LOADER="${TSX_LOADER:-/opt/tsx/node_modules/tsx/dist/loader.mjs}"
cmd="${1:---help}"
[ "$#" -gt 0 ] && shift

case "$cmd" in
  collector|splitter|parser|enricher|detector|notifier|sink)
    if [ -n "${SLUICE_REPLICA_SECTION:-}" ]; then
      pod="${SLUICE_POD_NAME:-$(hostname)}"
      ordinal="${pod##*-}"
      case "$ordinal" in
        ''|*[!0-9]*) echo "sluice-entrypoint: cannot take a replica ordinal from pod name '$pod'" >&2; exit 2 ;;
      esac
      section=$(printf '%s' "$SLUICE_REPLICA_SECTION" | tr '[:lower:]' '[:upper:]')
      export "SLUICE__${section}__REPLICA=${ordinal}"
    fi
    exec node --import "$LOADER" "/app/services/$cmd/main.ts" "$@"
    ;;
  sluice|cli)
    exec node --import "$LOADER" /app/cli/main.ts "$@"
    ;;
  -h|--help|help)
    echo "usage: <collector|splitter|parser|enricher|detector|notifier|sink> [--config FILE] [--set key=value ...]"
    echo "       sluice <provision|status|tables|...> [options]"
    exit 0
    ;;
  *)
    echo "sluice-entrypoint: unknown service '$cmd' (collector, splitter, parser, enricher, detector, notifier, sink, sluice)" >&2
    exit 2
    ;;
esac
