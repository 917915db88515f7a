#!/usr/bin/env bash
# Re-pins this module to another Kubernetes release: ./update.sh 1.36.3
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/apiserver, …) at v0.0.0;
# each gets a replace to the release's v0.MINOR.PATCH, taken from the release's own go.mod.
set -euo pipefail
cd "$(dirname "$0")"
version=${1:?usage: $0 KUBERNETES_VERSION (e.g. 1.36.3)}
gomod=$(go mod download -json "k8s.io/kubernetes@v$version" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["GoMod"])')
for old in $(go mod edit -json | python3 -c 'import json, sys; print(*(r["Old"]["Path"] for r in json.load(sys.stdin).get("Replace") or []))'); do
  go mod edit -dropreplace="$old"
done
while read -r module; do
  go mod edit -replace="$module=$module@v0.${version#1.}"
done < <(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$gomod" | sort -u)
go mod edit -require="k8s.io/kubernetes@v$version"
go mod tidy
