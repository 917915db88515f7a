"""Create and get throughput of the Pipelines API over SQLite and over PostgreSQL, side by side.

Two layers, each over both backends:

* ``app``   the whole API in process: ASGI requests straight into ``create_app()``'s application
  (request-id middleware, routing, static-token authentication, JSON decoding, spec validation,
  the store, JSON encoding) — no server, no socket, no HTTP client library, no log handler;
* ``store`` the store alone: ``create_pipeline`` with an already validated spec, ``get_pipeline``.

Each phase runs ``--creates`` creates, then ``--gets`` gets of the pipelines just created, from
``--concurrency`` concurrent workers on one uvloop event loop. The stores use their default
options (SQLite: WAL, 4 connections; PostgreSQL: a pool of at most 10 connections); SQLite's
file is in a temporary folder, PostgreSQL is the real server of ``events_api.devstack``
(Debian's postgresql-15, fsync off as in the tests), started here and stopped at the end.
The variants take turns for ``--rounds`` rounds; each result is its median round (by ops/s).

Besides throughput and latency, each line gives the CPU time one operation cost: this process's
(every thread, so SQLite's work is in it) plus, for PostgreSQL, the server's (the postmaster and
its backends, from ``/proc``), as the median over the rounds. On a busy machine the wall-clock
numbers move with the other load; the CPU per operation moves less (contention costs some CPU
too: lock hand-offs between the event loop and SQLite's threads). A call answered "store
unavailable" (503, or ``StoreUnavailable`` from the store: a call past its 5 s deadline, or
SQLite busy) is counted in the line's ``503s`` and not retried; a get then reads another pipeline.

    .venv/bin/python benchmarks/api/bench_store.py [--creates 2000] [--gets 5000]
        [--concurrency 16] [--rounds 3] [--backends sqlite postgres] [--layers app store]
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import uvloop
from starlette.applications import Starlette
from starlette.types import Message
from timing import Phase, median_round, process_cpu_seconds, run_concurrently

from events_api.app import create_app
from events_api.auth.scopes import Scope
from events_api.auth.settings import AuthMode, AuthSettings
from events_api.auth.static_tokens import encode_token_file, new_token_entry
from events_api.devstack import start_postgres
from events_api.settings import ApiSettings
from events_api.store.errors import StoreUnavailable
from events_api.store.factory import open_store
from events_api.store.protocol import PipelineStore
from pipeline_models import PipelineId, TenantId, validate_pipeline_spec

TENANT = TenantId("tenant-bench")
SPEC: dict[str, Any] = {
    "name": "orders",
    "options": {"event": "orders"},
    "steps": [
        {"type": "transform", "id": "shape", "output": {"total": "${{ event.data.total }}"}},
        {"type": "log", "id": "say", "message": "total ${{ steps.shape.total }}"},
    ],
}
BODY = msgspec.json.encode(SPEC)


@dataclass
class Variant:
    """One backend through one layer: how to create and get, and what each round measured."""

    backend: str
    layer: str
    create: Callable[[], Awaitable[str | None]]
    """Create a pipeline: its id, or None when the API answered 503 (store unavailable)."""
    get: Callable[[str], Awaitable[bool]]
    """Get a pipeline: False when the API answered 503 (store unavailable)."""
    cpu_clock: Callable[[], float]
    creates: list[Phase] = field(default_factory=list)
    gets: list[Phase] = field(default_factory=list)

    @property
    def name(self) -> str:
        """``backend/layer``."""
        return f"{self.backend}/{self.layer}"


async def call_asgi(
    app: Starlette, method: str, path: str, *, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[int, bytes]:
    """One HTTP request straight into the ASGI app: its status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("api", 80),
    }
    request_sent = False
    finished = asyncio.Event()
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    await app(scope, receive, send)
    return status, b"".join(chunks)


def server_cpu_seconds(postmaster: int) -> float:
    """CPU seconds of the PostgreSQL server: the postmaster, its live children (the backends,
    the background workers) and its exited children, from ``/proc/*/stat``."""
    total_ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # After the command's closing parenthesis: state, ppid, ... utime (11), stime (12),
        # cutime (13), cstime (14).
        fields = stat.rsplit(")", 1)[1].split()
        if int(entry.name) == postmaster:
            total_ticks += sum(int(value) for value in fields[11:15])
        elif int(fields[1]) == postmaster:
            total_ticks += int(fields[11]) + int(fields[12])
    return total_ticks / os.sysconf("SC_CLK_TCK")


def cpu_clock_for(postmaster: int | None) -> Callable[[], float]:
    """This process's CPU seconds, plus the PostgreSQL server's when there is one."""
    if postmaster is None:
        return process_cpu_seconds
    return lambda: process_cpu_seconds() + server_cpu_seconds(postmaster)


@contextlib.asynccontextmanager
async def app_variant(
    backend: str, database_url: str, folder: Path, cpu_clock: Callable[[], float]
) -> AsyncIterator[Variant]:
    """The whole API over one backend, authenticated with a static token."""
    minted = new_token_entry(name="bench", tenant=TENANT, scopes=tuple(Scope))
    tokens = folder / f"tokens-{backend}.json"
    tokens.write_bytes(encode_token_file([minted.entry]))
    app = create_app(
        ApiSettings(
            database_url=database_url,
            sqlite_path=str(folder / "app.sqlite3"),
            trigger_backend="none",
        ),
        auth_settings=AuthSettings(mode=AuthMode.STATIC, static_tokens_file=str(tokens)),
    )
    auth = (b"authorization", f"Bearer {minted.token}".encode())
    json_headers = [auth, (b"content-type", b"application/json")]

    async def create() -> str | None:
        status, body = await call_asgi(
            app, "POST", "/api/v1/pipelines", headers=json_headers, body=BODY
        )
        if status == 503:
            return None
        if status != 201:
            raise RuntimeError(f"create answered {status}: {body[:200]!r}")
        pipeline_id: str = msgspec.json.decode(body)["id"]
        return pipeline_id

    async def get(pipeline_id: str) -> bool:
        status, body = await call_asgi(
            app, "GET", f"/api/v1/pipelines/{pipeline_id}", headers=[auth], body=b""
        )
        if status not in {200, 503}:
            raise RuntimeError(f"get answered {status}: {body[:200]!r}")
        return status == 200

    async with app.router.lifespan_context(app):
        yield Variant(backend, "app", create, get, cpu_clock)


@contextlib.asynccontextmanager
async def store_variant(
    backend: str, database_url: str, folder: Path, cpu_clock: Callable[[], float]
) -> AsyncIterator[Variant]:
    """The store alone over one backend."""
    spec = validate_pipeline_spec(SPEC)
    store: PipelineStore
    async with open_store(
        database_url=database_url or None, sqlite_path=folder / "store.sqlite3"
    ) as store:

        async def create() -> str | None:
            try:
                record = await store.create_pipeline(TENANT, spec=spec)
            except StoreUnavailable:
                return None
            return str(record.id)

        async def get(pipeline_id: str) -> bool:
            try:
                await store.get_pipeline(TENANT, pipeline_id=PipelineId(pipeline_id))
            except StoreUnavailable:
                return False
            return True

        yield Variant(backend, "store", create, get, cpu_clock)


async def measure_round(variant: Variant, *, creates: int, gets: int, concurrency: int) -> None:
    """One round of a variant: the creates, then gets of what they created."""
    created: list[str] = []

    async def create(_: int) -> bool:
        pipeline_id = await variant.create()
        if pipeline_id is not None:
            created.append(pipeline_id)
        return pipeline_id is not None

    async def get(index: int) -> bool:
        return await variant.get(created[index % len(created)])

    clock = variant.cpu_clock
    variant.creates.append(
        await run_concurrently(create, count=creates, concurrency=concurrency, cpu_clock=clock)
    )
    if not created:
        raise RuntimeError(f"{variant.name}: every create answered 503")
    variant.gets.append(
        await run_concurrently(get, count=gets, concurrency=concurrency, cpu_clock=clock)
    )


def report(variants: list[Variant], *, creates: int, gets: int, concurrency: int) -> None:
    """One line per backend, layer and operation; then PostgreSQL over SQLite."""
    print(f"store benchmark: {creates} creates, {gets} gets, concurrency {concurrency}")
    results: dict[tuple[str, str, str], tuple[Phase, float]] = {}
    for variant in variants:
        for operation, rounds in (("create", variant.creates), ("get", variant.gets)):
            result = median_round(rounds)
            cpu = statistics.median(phase.cpu_us_per_op for phase in rounds)
            results[(variant.layer, variant.backend, operation)] = (result, cpu)
            every = " ".join(f"{phase.ops_per_second:.0f}" for phase in rounds)
            failures = sum(phase.failures for phase in rounds)
            print(
                f"{variant.name:<15} {operation:<6} {result.ops_per_second:7.0f} ops/s  "
                f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
                f"CPU {cpu:6.0f} µs/op  503s {failures}  (ops/s per round: {every})"
            )
    for (layer, backend, operation), (result, cpu) in sorted(results.items()):
        sqlite = results.get((layer, "sqlite", operation))
        if backend == "postgres" and sqlite is not None:
            print(
                f"ratio {layer} {operation} postgres/sqlite: "
                f"{result.ops_per_second / sqlite[0].ops_per_second:.2f}x ops/s, "
                f"{cpu / sqlite[1]:.2f}x CPU per op"
            )


async def run(
    args: argparse.Namespace, folder: Path, *, postgres_dsn: str, postmaster: int | None
) -> list[Variant]:
    """Open every variant, run the rounds with the variants taking turns, close them."""
    openers = {"app": app_variant, "store": store_variant}
    urls = {"sqlite": "", "postgres": postgres_dsn}
    clocks = {"sqlite": cpu_clock_for(None), "postgres": cpu_clock_for(postmaster)}
    async with contextlib.AsyncExitStack() as stack:
        variants = []
        for layer in args.layers:
            for backend in args.backends:
                subfolder = folder / f"{backend}-{layer}"
                subfolder.mkdir()
                opened = openers[layer](backend, urls[backend], subfolder, clocks[backend])
                variants.append(await stack.enter_async_context(opened))
        # A warm-up round (creates and gets, not reported): connections, caches, code paths.
        for variant in variants:
            await measure_round(variant, creates=100, gets=100, concurrency=args.concurrency)
            variant.creates.clear()
            variant.gets.clear()
        for _ in range(args.rounds):
            for variant in variants:
                await measure_round(
                    variant, creates=args.creates, gets=args.gets, concurrency=args.concurrency
                )
        return variants


def main() -> None:
    """Parse the arguments, start PostgreSQL if asked for, run, report, stop PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--gets", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--layers", nargs="+", choices=["app", "store"], default=["app", "store"])
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        dsn, postmaster = "", None
        if "postgres" in args.backends:
            server = stack.enter_context(start_postgres())
            dsn, postmaster = server.dsn, server.process.pid
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-store-")))
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            variants = runner.run(run(args, folder, postgres_dsn=dsn, postmaster=postmaster))
    report(variants, creates=args.creates, gets=args.gets, concurrency=args.concurrency)


if __name__ == "__main__":
    main()
