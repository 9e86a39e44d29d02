#!/usr/bin/env bash
# Makes sure a nats-server binary is available: PATH first, then Debian's package, then `go install`.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1 || [ -x "${NATS_SERVER_BIN:-}" ] || [ -x "$HOME/go/bin/nats-server" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if command -v apt-get >/dev/null 2>&1; then
  echo "installing nats-server from Debian packages…" >&2
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq nats-server >/dev/null && exit 0
fi
if command -v go >/dev/null 2>&1; then
  echo "installing nats-server with go install…" >&2
  go install github.com/nats-io/nats-server/v2@latest && exit 0
fi
echo "cannot install nats-server: install it yourself (https://docs.nats.io/running-a-nats-service/introduction/installation) or set NATS_SERVER_BIN" >&2
exit 1
