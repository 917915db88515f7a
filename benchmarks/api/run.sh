#!/usr/bin/env bash
# The API's benchmarks in one run: the cost of each auth mode per request (µs per authenticate
# call), then create/get throughput over SQLite and PostgreSQL, in process (bench_auth.py and
# bench_store.py say exactly what each measures). One line per measurement, then the ratios.
# Usage: benchmarks/api/run.sh [--rounds N]   (N rounds of each; default 7 for auth, 3 for store)
# Needs: the project's .venv (scripts/bootstrap) and PostgreSQL 15's server binaries
# (Debian: apt-get install postgresql-15), which the store benchmark starts and stops.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=()
if [ "${1:-}" = "--rounds" ] && [ -n "${2:-}" ]; then
  rounds=(--rounds "$2")
elif [ $# -gt 0 ]; then
  echo "usage: $0 [--rounds N]" >&2
  exit 2
fi

cd "$root"
"$root/.venv/bin/python" benchmarks/api/bench_auth.py "${rounds[@]}"
"$root/.venv/bin/python" benchmarks/api/bench_store.py "${rounds[@]}"
