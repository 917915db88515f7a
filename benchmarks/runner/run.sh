#!/usr/bin/env bash
# The runner's HTTP benchmark, reproducible: checks wrk, builds the cloudevents 2.x venv the
# "SDK core" reference app runs from (pinned, outside the checkout), then runs run.py.
# Usage: benchmarks/runner/run.sh [--duration 10] [--connections 64] [--only NAME ...]
# Needs: the project's .venv (scripts/bootstrap), wrk (Debian: apt-get install wrk), taskset
# (util-linux) and at least 2 CPUs (the server on CPU 0, wrk on CPU 1).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
sdk2=${PIPELINE_EVENTS_BENCH_SDK2:-/tmp/pipeline-events-bench-sdk2}

if ! command -v wrk >/dev/null; then
  echo "wrk is missing: install it (Debian: apt-get install wrk)" >&2
  exit 1
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "this benchmark pins the server and wrk to CPUs 0 and 1: it needs 2 CPUs" >&2
  exit 1
fi
if [ ! -x "$sdk2/bin/python" ]; then
  python3 -m venv "$sdk2"
  # The same server stack as constraints.txt, with the CloudEvents SDK's 2.x line.
  "$sdk2/bin/pip" install --quiet cloudevents==2.2.0 starlette==1.10.0 uvicorn==0.55.0 \
    uvloop==0.23.0 httptools==0.9.0
fi

cd "$root"
exec "$root/.venv/bin/python" benchmarks/runner/run.py --sdk-core-python "$sdk2/bin/python" "$@"
