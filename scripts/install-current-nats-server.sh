#!/usr/bin/env bash
# Installs a current nats-server (pinned, verified against the integration and e2e suites) into $HOME/go/bin with
# `go install`, next to Debian's 2.9.10, so both can be tested. Idempotent: does nothing if that version is there.
# Prints the binary's path on stdout. Use it with NATS_SERVER_BIN=<path> (see `make test-nats-current`).
# Note: if $HOME/go/bin comes before /usr/sbin on PATH, this binary also shadows Debian's for runs without
# NATS_SERVER_BIN; set NATS_SERVER_BIN=/usr/sbin/nats-server to test 2.9.10 explicitly.
set -euo pipefail
VERSION="${NATS_SERVER_VERSION:-v2.15.2}"
BIN_DIR="$HOME/go/bin"
BIN="$BIN_DIR/nats-server"

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null)" = "nats-server: $VERSION" ]; then
  echo "$BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "go not found: install Go (https://go.dev/dl/) to build nats-server $VERSION" >&2
  exit 1
fi
echo "installing nats-server $VERSION into $BIN_DIR with go install…" >&2
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" go install "github.com/nats-io/nats-server/v2@$VERSION" >&2
"$BIN" --version >&2
echo "$BIN"
