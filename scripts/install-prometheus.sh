#!/usr/bin/env bash
# Makes sure `prometheus` and `promtool` are available (for `make test-prometheus`): PATH first, then Debian's
# `prometheus` package (both binaries, no service started without systemd), then `go install` of a pinned release
# into $HOME/go/bin. Idempotent. Prints the directory holding both binaries on stdout.
set -euo pipefail
VERSION="${PROMETHEUS_VERSION:-v0.316.0}"   # Go module version of github.com/prometheus/prometheus (= Prometheus 3.x)

have() { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }
if have; then dirname "$(command -v promtool)"; exit 0; fi
if [ -x "$HOME/go/bin/prometheus" ] && [ -x "$HOME/go/bin/promtool" ]; then echo "$HOME/go/bin"; exit 0; fi

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
  echo "installing prometheus (and promtool) from Debian packages…" >&2
  # Recommends would pull in node-exporter and friends we do not need.
  if $SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; then
    # The package's init scripts may start a server on :9090 where there is an init system: tests use their own.
    if have; then dirname "$(command -v promtool)"; exit 0; fi
  fi
fi
if command -v go >/dev/null 2>&1; then
  echo "installing prometheus and promtool $VERSION with go install (several minutes the first time)…" >&2
  mkdir -p "$HOME/go/bin"
  GOBIN="$HOME/go/bin" go install "github.com/prometheus/prometheus/cmd/prometheus@$VERSION" "github.com/prometheus/prometheus/cmd/promtool@$VERSION" >&2
  echo "$HOME/go/bin"
  exit 0
fi
echo "cannot install prometheus: install Debian's 'prometheus' package or Go, or put prometheus and promtool on PATH" >&2
exit 1
