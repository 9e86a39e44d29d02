#!/usr/bin/env bash
# Installs MinIO, the S3-compatible server the object-store tests use (it honours conditional PUT with
# If-None-Match: *), into $HOME/go/bin with `go install`. Idempotent: does nothing when that module version is
# there. Prints the binary's path on stdout; test/support/s3Server.ts finds it there (or use SLUICE_MINIO_BIN).
# Building takes several minutes on two cores the first time.
set -euo pipefail
# The pseudo-version `@latest` resolved to when this was set up (MinIO's source tree has no Go-module tags).
VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
BIN_DIR="$HOME/go/bin"
BIN="$BIN_DIR/minio"

if ! command -v go >/dev/null 2>&1; then
  echo "go not found: install Go to build MinIO $VERSION" >&2
  exit 1
fi
if [ -x "$BIN" ] && go version -m "$BIN" 2>/dev/null | grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/minio/minio[[:space:]]+$VERSION"; then
  echo "$BIN"
  exit 0
fi
echo "installing MinIO $VERSION into $BIN_DIR with go install (takes minutes)…" >&2
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" go install "github.com/minio/minio@$VERSION" >&2
echo "$BIN"
