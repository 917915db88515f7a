#!/usr/bin/env bash
# Re-pins this module to another etcd release: ./update.sh 3.6.16
set -euo pipefail
cd "$(dirname "$0")"
version=${1:?usage: $0 ETCD_VERSION (e.g. 3.6.16)}
go get "go.etcd.io/etcd/server/v3@v$version"
go mod tidy
