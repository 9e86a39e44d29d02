#!/usr/bin/env bash
# Installs the chart's offline CI tools with `go install` (the Go module proxy is the only source needed):
# helm (lint, template) and kubeconform (validates rendered manifests against the JSON schemas vendored in
# deploy/helm/schemas/, so no schema is fetched at test time). Binaries go to $(go env GOPATH)/bin.
# Idempotent: a tool already at the pinned version is kept.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
KUBECONFORM_VERSION="${KUBECONFORM_VERSION:-v0.8.0}"

command -v go >/dev/null || { echo "install-helm-tools: go is required (apt-get install golang-go, or a current Go)" >&2; exit 1; }
BIN="$(go env GOPATH)/bin"

# go-installed binaries do not know their exact version (helm says "v3.22", kubeconform "development"), so the
# module version installed is recorded beside each binary and compared.
install() { # name module version
  local name=$1 module=$2 version=$3 stamp="$BIN/.$1-version"
  if [[ -x "$BIN/$name" && "$(cat "$stamp" 2>/dev/null)" == "$module@$version" ]]; then
    echo "$name $version already in $BIN"
    return
  fi
  # A helm of the same minor built earlier (e.g. by hand) is taken as is: rebuilding it takes minutes on 2 cores.
  if [[ "$name" == helm && -x "$BIN/helm" && "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null)" == "${version%.*}" ]]; then
    echo "$module@$version" > "$stamp"
    echo "helm ${version%.*} already in $BIN"
    return
  fi
  echo "installing $name $version (go install; helm takes several minutes the first time)"
  CGO_ENABLED=0 go install "$module@$version"
  echo "$module@$version" > "$stamp"
}

install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"
install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
echo "helm: $(cat "$BIN/.helm-version"); kubeconform: $(cat "$BIN/.kubeconform-version")"
