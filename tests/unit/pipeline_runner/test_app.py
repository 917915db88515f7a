"""The runner over HTTP: answers per failure class, dedup, bounded concurrency, drain, metrics."""

import asyncio
import gc
import ipaddress
import socket
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
from starlette.applications import Starlette

from pipeline_models import ContractError
from pipeline_runner.app import create_app
from pipeline_runner.egress import IPAddress
from pipeline_runner.errors import PipelineFailed
from pipeline_runner.runtime import Runtime
from unit.pipeline_runner.helpers import EnvFactory, Upstream

SOURCE = "/apis/v1/namespaces/team-a/kafkasources/orders#orders"


class LocalResolver:
    """Resolves the test's names to 127.0.0.1 (the upstream), as DNS would in a cluster."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]


def allow_all(host: str, address: IPAddress) -> str | None:
    return None


def kafka_headers(offset: int = 1) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": f"partition:0/offset:{offset}",
        "ce-source": SOURCE,
        "ce-type": "dev.knative.kafka.event",
        "ce-subject": f"partition:0#{offset}",
        "ce-time": "2026-03-01T12:00:00Z",
        "ce-knativekafkapartition": "0",
        "ce-knativekafkaoffset": str(offset),
    }


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://runner") as client:
            yield client


def build(env: dict[str, str], **options: Any) -> Starlette:
    return create_app(
        env,
        resolver=LocalResolver(),
        egress_check=options.pop("egress_check", allow_all),
        handle_signals=False,
        configure_logs=False,
        **options,
    )


def runtime_of(app: Starlette) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def call_upstream(upstream: Upstream, **extra: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "id": "call",
        "method": "POST",
        "url": f"http://upstream.test:{upstream.port}/orders",
        "body": {"n": "${{ event.data.n }}"},
        **extra,
    }


async def test_a_kafka_record_runs_the_pipeline(make_env: EnvFactory, upstream: Upstream) -> None:
    env = make_env(
        [
            {"type": "transform", "id": "shape", "output": {"n": "${{ event.data.n }}"}},
            {**call_upstream(upstream), "body": "${{ steps.shape }}"},
        ]
    )
    async with serving(build(env)) as client:
        response = await client.post("/", headers=kafka_headers(), content=b'{"n": 5}')

    assert response.status_code == 200
    assert response.json() == {"outcome": "succeeded", "id": "partition:0/offset:1"}
    [request] = upstream.requests
    assert (request.method, request.path) == ("POST", "/orders")
    assert request.headers["host"] == f"upstream.test:{upstream.port}"
    assert msgspec.json.decode(request.body) == {"n": 5}


async def test_any_path_receives_events(make_env: EnvFactory) -> None:
    env = make_env([{"type": "log", "id": "log", "message": "got ${{ event.id }}"}])
    async with serving(build(env)) as client:
        response = await client.post("/some/sink/path", headers=kafka_headers(), content=b"{}")

    assert response.status_code == 200


async def test_a_filtered_event_succeeds(make_env: EnvFactory, upstream: Upstream) -> None:
    env = make_env(
        [
            {"type": "filter", "id": "big", "condition": "${{ event.data.n > `10` }}"},
            {**call_upstream(upstream), "needs": ["big"]},
        ]
    )
    async with serving(build(env)) as client:
        response = await client.post("/", headers=kafka_headers(), content=b'{"n": 5}')

    assert response.status_code == 200
    assert response.json()["outcome"] == "filtered"
    assert upstream.requests == []


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("steps", "body", "headers", "status", "code"),
    [
        pytest.param(
            [{"type": "transform", "id": "t", "output": 1}],
            b'{"n": 1}',
            {"content-type": "application/json"},
            400,
            "malformed_event",
            id="not a CloudEvent",
        ),
        pytest.param(
            [{"type": "transform", "id": "t", "output": 1}],
            b"[]",
            {"content-type": "application/cloudevents-batch+json"},
            400,
            "unsupported_media",
            id="batch",
        ),
        pytest.param(
            [{"type": "transform", "id": "t", "output": "${{ length(event.data.n) }}"}],
            b'{"n": 1}',
            kafka_headers(),
            422,
            "step_failed",
            id="expression fails",
        ),
        pytest.param(
            [{"type": "http", "id": "h", "url": "http://169.254.169.254/latest/meta-data"}],
            b"{}",
            kafka_headers(),
            422,
            "step_failed",
            id="egress denied",
        ),
        pytest.param(
            [{"type": "http", "id": "h", "url": f"http://upstream.test:{unused_port()}/"}],
            b"{}",
            kafka_headers(),
            503,
            "step_unavailable",
            id="connection refused",
        ),
    ],
)
async def test_failures_answer_by_class(
    make_env: EnvFactory,
    *,
    steps: list[dict[str, Any]],
    body: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    # Only the egress case needs the real policy (it refuses the loopback upstream.test).
    check = None if code == "step_failed" else allow_all
    app = build(make_env(steps), egress_check=check)
    async with serving(app) as client:
        response = await client.post("/", headers=headers, content=body)

    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("status", "answer"), [(400, 422), (404, 422), (409, 422), (500, 503), (429, 503), (408, 503)]
)
async def test_upstream_statuses_decide_retry(
    make_env: EnvFactory, upstream: Upstream, status: int, answer: int
) -> None:
    upstream.status = status
    async with serving(build(make_env([call_upstream(upstream)]))) as client:
        response = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')

    assert response.status_code == answer


async def test_a_body_over_the_limit_is_refused(make_env: EnvFactory) -> None:
    env = make_env([{"type": "transform", "id": "t", "output": 1}], max_body_bytes=16)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"[" + b"1," * 10
        yield b"1]"

    async with serving(build(env)) as client:
        declared = await client.post("/", headers=kafka_headers(), content=b"x" * 17)
        streamed = await client.post("/", headers=kafka_headers(), content=chunks())
        fits = await client.post("/", headers=kafka_headers(2), content=b"x" * 16)

    assert (declared.status_code, declared.json()["error"]) == (413, "payload_too_large")
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413
    assert fits.status_code == 200


async def test_a_redelivered_event_is_not_run_twice(
    make_env: EnvFactory, upstream: Upstream
) -> None:
    async with serving(build(make_env([call_upstream(upstream)]))) as client:
        first = await client.post("/", headers=kafka_headers(7), content=b'{"n": 1}')
        again = await client.post("/", headers=kafka_headers(7), content=b'{"n": 1}')
        other = await client.post("/", headers=kafka_headers(8), content=b'{"n": 1}')

    assert [first.json()["outcome"], again.json()["outcome"]] == ["succeeded", "duplicate"]
    assert other.json()["outcome"] == "succeeded"
    assert len(upstream.requests) == 2


async def test_a_permanently_failed_event_gets_the_same_answer_without_running(
    make_env: EnvFactory, upstream: Upstream
) -> None:
    upstream.status = 400
    app = build(make_env([call_upstream(upstream)]))
    async with serving(app) as client:
        first = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')
        upstream.status = 200
        again = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')
        _, remembered = runtime_of(app).dedup.claim((SOURCE, "partition:0/offset:1"))

    assert (first.status_code, again.status_code) == (422, 422)
    assert again.json() == first.json()
    assert len(upstream.requests) == 1
    # What the window keeps holds no traceback (and so no request or step frames) at all.
    assert isinstance(remembered, PipelineFailed)
    assert remembered.__traceback__ is None
    assert [failure.__traceback__ for failure in remembered.failures] == [None]
    assert [failure.step_id for failure in remembered.failures] == ["call"]


async def test_a_transiently_failed_event_runs_again_when_redelivered(
    make_env: EnvFactory, upstream: Upstream
) -> None:
    upstream.status = 503
    async with serving(build(make_env([call_upstream(upstream)]))) as client:
        first = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')
        upstream.status = 200
        again = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')

    assert (first.status_code, again.status_code) == (503, 200)
    assert len(upstream.requests) == 2


async def test_dedup_can_be_turned_off(make_env: EnvFactory, upstream: Upstream) -> None:
    env = make_env([call_upstream(upstream)], dedup={"window_seconds": 0})
    async with serving(build(env)) as client:
        for _ in range(2):
            response = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')
            assert response.json()["outcome"] == "succeeded"

    assert len(upstream.requests) == 2


@asynccontextmanager
async def blocked_event(
    client: httpx.AsyncClient, upstream: Upstream, offset: int = 1
) -> AsyncIterator["asyncio.Task[httpx.Response]"]:
    """An event whose http step is held inside the upstream until the block ends."""
    upstream.gate = asyncio.Event()
    task = asyncio.create_task(client.post("/", headers=kafka_headers(offset), content=b'{"n": 1}'))
    await upstream.arrived.wait()
    try:
        yield task
    finally:
        await upstream.settle()
        await task


async def test_a_duplicate_in_flight_is_told_to_retry(
    make_env: EnvFactory, upstream: Upstream
) -> None:
    app = build(make_env([call_upstream(upstream)]))
    async with serving(app) as client, blocked_event(client, upstream) as first:
        duplicate = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')

    assert (duplicate.status_code, duplicate.json()["error"]) == (429, "duplicate_in_flight")
    assert first.result().status_code == 200
    assert len(upstream.requests) == 1


async def test_events_beyond_the_concurrency_bound_are_refused(
    make_env: EnvFactory, upstream: Upstream
) -> None:
    env = make_env([call_upstream(upstream)], options={"scaling": {"container_concurrency": 1}})
    async with serving(build(env)) as client, blocked_event(client, upstream) as first:
        second = await client.post("/", headers=kafka_headers(2), content=b'{"n": 1}')

    assert (second.status_code, second.json()["error"]) == (429, "overloaded")
    assert first.result().status_code == 200


async def test_draining_refuses_new_events_and_finishes_the_running_ones(
    make_env: EnvFactory, upstream: Upstream
) -> None:
    app = build(make_env([call_upstream(upstream)]))
    async with serving(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        async with blocked_event(client, upstream) as first:
            drained = runtime_of(app).start_drain()
            ready = await client.get("/readyz")
            refused = await client.post("/", headers=kafka_headers(2), content=b'{"n": 1}')
            assert not drained.done()
        await drained

    assert ready.status_code == 503
    assert (refused.status_code, refused.json()["error"]) == (503, "shutting_down")
    assert first.result().status_code == 200


async def test_the_drain_cuts_events_that_outlast_its_grace(
    make_env: EnvFactory, upstream: Upstream
) -> None:
    app = build(make_env([call_upstream(upstream)]), drain_seconds=0.01)
    async with serving(app) as client:
        upstream.gate = asyncio.Event()
        event = asyncio.create_task(client.post("/", headers=kafka_headers(), content=b'{"n": 1}'))
        await upstream.arrived.wait()
        await runtime_of(app).start_drain()
        response = await event
        await upstream.settle()

    assert (response.status_code, response.json()["error"]) == (503, "shutting_down")


async def test_the_pipeline_deadline_answers_503(make_env: EnvFactory, upstream: Upstream) -> None:
    env = make_env(
        [call_upstream(upstream)],
        options={"timeouts": {"request_timeout_seconds": 1}},
        pipeline_deadline_seconds=0.05,
    )
    async with serving(build(env)) as client:
        upstream.gate = asyncio.Event()
        response = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')
        await upstream.settle()

    assert (response.status_code, response.json()["error"]) == (503, "deadline_exceeded")


async def test_metrics_count_events_and_steps(make_env: EnvFactory) -> None:
    env = make_env([{"type": "transform", "id": "t", "output": 1}])
    async with serving(build(env)) as client:
        await client.post("/", headers=kafka_headers(), content=b"{}")
        await client.post("/", headers={"content-type": "text/plain"}, content=b"x")
        metrics = (await client.get("/metrics")).text

    assert 'pipeline_runner_events_total{outcome="succeeded",status="200"} 1.0' in metrics
    assert 'pipeline_runner_events_total{outcome="malformed_event",status="400"} 1.0' in metrics
    assert (
        'pipeline_runner_steps_total{status="succeeded",step="t",type="transform"} 1.0' in metrics
    )


async def test_healthz_answers_ok(make_env: EnvFactory) -> None:
    async with serving(build(make_env([{"type": "transform", "id": "t", "output": 1}]))) as client:
        response = await client.get("/healthz")

    assert response.status_code == 200


async def test_the_lifespan_tells_the_runtime_its_loop_and_events_run_without_one(
    make_env: EnvFactory,
) -> None:
    env = make_env([{"type": "transform", "id": "t", "output": "${{ event.id }}"}])
    app = build(env)
    loops: list[object] = [runtime_of(app).loop]
    async with serving(app) as client:
        loops.append(runtime_of(app).loop)
        served = await client.post("/", headers=kafka_headers(1), content=b"{}")
    loops.append(runtime_of(app).loop)
    # Without a lifespan (some ASGI harnesses skip it), each event looks its loop up.
    bare = build(env)
    transport = httpx.ASGITransport(app=bare)
    async with httpx.AsyncClient(transport=transport, base_url="http://runner") as client:
        unserved = await client.post("/", headers=kafka_headers(2), content=b"{}")
    await runtime_of(bare).close()  # What the lifespan's end would do.

    assert loops == [None, asyncio.get_running_loop(), None]
    assert (served.status_code, unserved.status_code) == (200, 200)
    assert unserved.json() == {"outcome": "succeeded", "id": "partition:0/offset:2"}


async def post_directly(app: Starlette, offset: int) -> int:
    """POST one event to the ASGI app itself (no client library in between); its status."""
    headers = [(name.encode(), value.encode()) for name, value in kafka_headers(offset).items()]
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    messages = [{"type": "http.request", "body": b'{"n": 1}', "more_body": False}]
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    [status] = statuses
    return status


@pytest.mark.parametrize(
    "steps",
    [
        [{"type": "transform", "id": "t", "output": {"n": "${{ event.data.n }}"}}],
        [
            {"type": "filter", "id": "f", "condition": "${{ event.data.n > `0` }}"},
            {"type": "transform", "id": "a", "output": 1, "needs": ["f"]},
            {"type": "transform", "id": "b", "output": 2, "needs": ["f"]},
            {"type": "transform", "id": "j", "output": ["${{ steps.a }}", "${{ steps.b }}"]},
        ],
    ],
)
async def test_events_leave_no_reference_cycles_behind(
    make_env: EnvFactory, steps: list[dict[str, Any]]
) -> None:
    # Reference counting frees each event's objects: cyclic garbage would pile up for the
    # garbage collector, whose full collections stall every event in flight (the p99).
    app = build(make_env(steps))
    async with app.router.lifespan_context(app):
        assert await post_directly(app, 0) == 200
        gc.collect()
        gc.disable()
        try:
            statuses = {await post_directly(app, offset) for offset in range(1, 21)}
            assert gc.collect() == 0
        finally:
            gc.enable()

    assert statuses == {200}


def test_an_invalid_contract_stops_start_up() -> None:
    with pytest.raises(ContractError, match="PIPELINE_EVENTS_PIPELINE is not set"):
        create_app({}, handle_signals=False, configure_logs=False)


async def test_a_step_timeout_answers_503_step_unavailable(
    make_env: EnvFactory, upstream: Upstream
) -> None:
    env = make_env([call_upstream(upstream, timeout_seconds=0.05, retry={"max_attempts": 1})])
    async with serving(build(env)) as client:
        upstream.gate = asyncio.Event()
        response = await client.post("/", headers=kafka_headers(), content=b'{"n": 1}')
        await upstream.settle()

    assert (response.status_code, response.json()["error"]) == (503, "step_unavailable")
    assert "took longer than 0.05 s" in response.json()["message"]
