"""The runner's per-event path in-process: µs per event, and where the time goes (pyinstrument).

Drives the runner's ASGI application directly — no sockets, no HTTP parsing — with the
KafkaSource-shaped event of :mod:`kafka_event` (a new offset each time), ``--concurrency``
events at a time, on uvloop as in production. Prints µs per event; with ``--profile``, a
pyinstrument profile of the run (``pip install pyinstrument``).

    .venv/bin/python benchmarks/runner/profile_events.py [--pipeline transform|diamond]
        [--events 50000] [--concurrency 16] [--profile]
"""

import argparse
import asyncio
import time
from typing import Any

import kafka_event
import pipelines
import uvloop

from pipeline_runner.app import create_app


async def drive(app: Any, *, events: int, concurrency: int) -> float:
    """Send ``events`` events through ``app``; return the seconds it took."""
    statuses: dict[int, int] = {}
    offsets = iter(range(events))

    async def worker() -> None:
        for offset in offsets:
            await _one_event(app, offset, statuses)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise SystemExit(f"not every event succeeded: {statuses}")
    return elapsed


async def _one_event(app: Any, offset: int, statuses: dict[int, int]) -> None:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": kafka_event.raw_headers(offset),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": kafka_event.BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses[message["status"]] = statuses.get(message["status"], 0) + 1

    await app(scope, receive, send)


async def main(arguments: argparse.Namespace) -> None:
    """Warm up, then measure (and maybe profile) one run."""
    app = create_app(
        pipelines.runner_env(arguments.pipeline), handle_signals=False, configure_logs=False
    )
    async with app.router.lifespan_context(app):
        await drive(app, events=2000, concurrency=arguments.concurrency)
        profiler: Any = None
        if arguments.profile:
            from pyinstrument import Profiler  # noqa: PLC0415 - optional, only with --profile

            profiler = Profiler(interval=0.0001, async_mode="disabled")
            profiler.start()
        elapsed = await drive(app, events=arguments.events, concurrency=arguments.concurrency)
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
    print(
        f"{arguments.pipeline}: {elapsed / arguments.events * 1e6:.1f} us/event "
        f"({arguments.events / elapsed:.0f} events/s in-process, concurrency "
        f"{arguments.concurrency})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipeline", choices=sorted(pipelines.PIPELINES), default="transform")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--profile", action="store_true")
    uvloop.run(main(parser.parse_args()))
