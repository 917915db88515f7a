"""Runner event throughput, side by side in one run: the runner vs. a CloudEvents-SDK handler
vs. a bare ASGI endpoint, all in-process over httpx's ASGI transport (no sockets, so the numbers
compare the request path, not the network). One result line each.

    .venv/bin/python benchmarks/runner/bench_events.py [events] [concurrency]
"""

import asyncio
import sys
import time
from datetime import UTC, datetime

import httpx
from cloudevents.http import from_http
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline_models import (
    DedupSettings,
    PipelineId,
    PipelineVersion,
    RunnerSettings,
    encode_runner_env,
    validate_pipeline_spec,
)
from pipeline_runner.app import create_app

HEADERS = {
    "ce-specversion": "1.0",
    "ce-source": "/apis/v1/namespaces/bench/kafkasources/s#orders",
    "ce-type": "dev.knative.kafka.event",
    "ce-subject": "partition:0#1",
    "ce-time": "2026-03-01T12:00:00Z",
}
BODY = b'{"order": 7, "amount": 120, "items": [1, 2, 3]}'


def runner_app() -> Starlette:
    spec = validate_pipeline_spec(
        {
            "name": "bench",
            "steps": [
                {"type": "filter", "id": "big", "condition": "${{ event.data.amount > `100` }}"},
                {"type": "transform", "id": "shape", "output": {"o": "${{ event.data.order }}"}},
            ],
        }
    )
    version = PipelineVersion(
        pipeline_id=PipelineId("pipeline-bench0000000"),
        version=1,
        spec=spec,
        created_at=datetime.now(UTC),
    )
    # Every event is new (distinct ids): dedup costs what it costs in production.
    settings = RunnerSettings(dedup=DedupSettings(window_seconds=600, max_entries=1_000_000))
    env = encode_runner_env(pipeline=version, settings=settings)
    return create_app(env, handle_signals=False, configure_logs=False)


def sdk_app() -> Starlette:
    async def handle(request: Request) -> Response:
        event = from_http(dict(request.headers), await request.body())
        return JSONResponse({"id": event["id"]})

    return Starlette(routes=[Route("/", handle, methods=["POST"])])


def bare_app() -> Starlette:
    async def handle(request: Request) -> Response:
        await request.body()
        return Response(b"{}", media_type="application/json")

    return Starlette(routes=[Route("/", handle, methods=["POST"])])


async def measure(name: str, app: Starlette, *, events: int, concurrency: int) -> None:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            counter = iter(range(events))
            failures = 0

            async def worker() -> None:
                nonlocal failures
                for n in counter:
                    response = await client.post(
                        "/", headers={**HEADERS, "ce-id": f"partition:0/offset:{n}"}, content=BODY
                    )
                    failures += response.status_code != 200

            started = time.perf_counter()
            async with asyncio.TaskGroup() as group:
                for _ in range(concurrency):
                    group.create_task(worker())
            elapsed = time.perf_counter() - started
    print(
        f"{name:<22} {events / elapsed:>10.0f} events/s  "
        f"{elapsed / events * 1e6:>8.1f} us/event  failures={failures}"
    )


async def main(events: int, concurrency: int) -> None:
    for name, app in (
        ("bare ASGI endpoint", bare_app()),
        ("cloudevents SDK 1.x", sdk_app()),
        ("pipeline runner", runner_app()),
    ):
        await measure(name, app, events=events, concurrency=concurrency)


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    asyncio.run(main(*(arguments + [5000, 10][len(arguments) :])))
