"""The Events API's benchmarks, against a real kube-apiserver, in one run.

    .venv/bin/python benchmarks/events/run.py [--parts status start memory] [--rounds 3] ...

It starts etcd and kube-apiserver with Knative's CRDs (`events_api.devstack`, cached builds),
runs the parts asked for, prints one result line per measurement, and stops what it started
(by PID) — also on Ctrl-C or a failure.

* ``status``  `GET /api/v1/events/{id}` answered from the readiness cache (production) against a
  baseline that reads the Service from the apiserver on every GET (`direct_status`), each a real
  uvicorn process loaded by wrk; static-token and JWT (HS256, RS256) authentication. Target: the
  cache answers >= 10x the requests/s. `--profile DIR` adds py-spy's stacks. See `status_bench`.
* ``start``   `POST /api/v1/events/{id}` latency, p50 and p99, for a pipeline without a trigger
  (creates) and with one (replaces in place), interleaved. See `start_bench`.
* ``memory``  the readiness cache's memory per entry with 10,000 managed Services listed through
  the real `ReadinessWatcher`. Target: <= 2 KiB per entry. See `memory_bench`.

The API instances share a PostgreSQL store (`--store postgres`, the default: what production
replicas share; started from `events_api.devstack`) or a SQLite file (`--store sqlite`, dev
mode's). Every status GET reads the trigger's intent from it.

Needs the project's .venv (`scripts/bootstrap`), Go for the first build of the control plane,
wrk and taskset, and 2 CPUs: uvicorn on CPU 0, wrk on CPU 1.
"""

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import cluster  # noqa: F401 - puts tests/ on sys.path, for support.*
from measuring import Throughput

from events_api.devstack import PostgresServer, start_postgres
from events_api.devstack.knative import knative_crds
from events_api.devstack.kubernetes import KubernetesControlPlane, start_kubernetes
from support.knative_api import knative_harness
from support.kubernetes import api_client_for
from support.postgres import fresh_database

PARTS = ("status", "start", "memory")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--rounds", type=int, default=3, help="turns each variant takes")
    status = parser.add_argument_group("status")
    status.add_argument("--variants", nargs="+", help="APP-AUTH, e.g. cache-static direct-hs256")
    status.add_argument("--duration", type=float, default=10, help="seconds of measured load")
    status.add_argument("--warmup", type=float, default=3, help="seconds of load before that")
    status.add_argument("--connections", type=int, default=16, help="wrk's open connections")
    status.add_argument("--port", type=int, default=18090)
    status.add_argument(
        "--profile", type=Path, help="folder for py-spy's collapsed stacks of each server"
    )
    start = parser.add_argument_group("start")
    start.add_argument("--starts", type=int, default=100, help="measured starts of each kind")
    memory = parser.add_argument_group("memory")
    memory.add_argument("--services", type=int, default=10_000, help="managed Services to list")
    memory.add_argument(
        "--failing-share",
        type=float,
        default=0.1,
        help="share of Services Ready=False with a long failure message",
    )
    parser.add_argument(
        "--store",
        choices=["postgres", "sqlite"],
        default="postgres",
        help="the API's store (default postgres, as production replicas share)",
    )
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs and the store")
    return parser.parse_args()


@contextlib.asynccontextmanager
async def store_database(postgres: PostgresServer | None) -> AsyncIterator[str | None]:
    """A fresh database on `postgres` (its URL, dropped after), or None: the harness's SQLite."""
    if postgres is None:
        yield None
        return
    async with fresh_database(postgres, prefix="bench") as database_url:
        yield database_url


@contextlib.contextmanager
def store_server(store: str) -> Iterator[PostgresServer | None]:
    """The PostgreSQL server while it runs (stopped by PID after), or None for SQLite."""
    if store == "sqlite":
        yield None
        return
    _say("starting PostgreSQL…")
    with start_postgres() as postgres:
        yield postgres


async def run_parts(
    plane: KubernetesControlPlane,
    workdir: Path,
    args: argparse.Namespace,
    postgres: PostgresServer | None,
) -> None:
    """Each part asked for, each on its own harness (namespaces, RBAC, controllers, store)."""
    import memory_bench  # noqa: PLC0415 - each part's imports only when it runs
    import start_bench  # noqa: PLC0415
    import status_bench  # noqa: PLC0415

    apiserver = plane.apiserver
    admin = await api_client_for(apiserver, apiserver.admin_token, name="admin")
    async with admin:
        if "status" in args.parts:
            names = args.variants or status_bench.DEFAULT_VARIANTS
            options = status_bench.StatusOptions(
                rounds=args.rounds,
                duration=args.duration,
                warmup=args.warmup,
                connections=args.connections,
                port=args.port,
                profile=args.profile,
            )
            folder = workdir / "status"
            folder.mkdir()
            async with (
                store_database(postgres) as database,
                knative_harness(apiserver, admin, folder, database_url=database) as harness,
            ):
                results: dict[str, Throughput] = await status_bench.run_status(
                    harness, names, options
                )
            status_bench.report_status(results, connections=args.connections)
            print(flush=True)
        if "start" in args.parts:
            folder = workdir / "start"
            folder.mkdir()
            async with (
                store_database(postgres) as database,
                knative_harness(apiserver, admin, folder, database_url=database) as harness,
            ):
                latencies = await start_bench.run_starts(
                    harness, starts=args.starts, rounds=args.rounds
                )
            start_bench.report_starts(latencies)
            print(flush=True)
        if "memory" in args.parts:
            outcome = await memory_bench.run_memory(
                apiserver,
                admin,
                services=args.services,
                failing_share=args.failing_share,
            )
            memory_bench.report_memory(outcome)
            print(flush=True)


def main() -> None:
    """Start the control plane, run the parts, stop everything."""
    args = parse_arguments()
    if shutil.which("wrk") is None and "status" in args.parts:
        raise SystemExit("wrk is missing: install it (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="pipeline-events-bench-events-"))
    _say(f"work folder {workdir}; starting etcd and kube-apiserver…")
    try:
        with (
            store_server(args.store) as postgres,
            start_kubernetes(workdir=workdir / "kubernetes", progress=_say) as plane,
        ):
            plane.apiserver.install_crds(knative_crds(progress=_say))
            asyncio.run(run_parts(plane, workdir, args, postgres))
    finally:
        if args.keep_workdir:
            _say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
