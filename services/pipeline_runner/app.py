"""The runner's HTTP edge: the application factory, routes, lifespan and SIGTERM handling.

``create_app`` reads the runner contract from the environment (an invalid one raises
:class:`pipeline_models.ContractError`, which stops uvicorn with its message and exit status 1)
and serves:

* ``POST /`` (and any other path: a sink URI with a path must not get a 404, which Knative would
  retry forever) — one CloudEvent; answers per :mod:`pipeline_runner.answers`;
* ``GET /healthz`` — liveness; ``GET /readyz`` — 503 once draining; ``GET /metrics``.

On SIGTERM (and SIGINT) the runner flips readiness, refuses new events and drains the in-flight
ones (:mod:`pipeline_runner.admission`), then hands the signal on to uvicorn, which stops
accepting connections and waits for the open requests before the lifespan closes the clients.
"""

import asyncio
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import FrameType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline_models import decode_runner_env
from pipeline_runner import answers
from pipeline_runner.egress import EgressCheck, Resolver
from pipeline_runner.engine import Sleep
from pipeline_runner.errors import RunnerError
from pipeline_runner.jsonlog import configure_json_logging
from pipeline_runner.metrics import CONTENT_TYPE
from pipeline_runner.runtime import Runtime

logger = logging.getLogger("pipeline_runner")
_DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def create_app(
    env: Mapping[str, str] | None = None,
    *,
    resolver: Resolver | None = None,
    egress_check: EgressCheck | None = None,
    sleep: Sleep = asyncio.sleep,
    drain_seconds: float | None = None,
    handle_signals: bool = True,
    configure_logs: bool = True,
) -> Starlette:
    """Build the runner application (uvicorn calls this with ``--factory``, without arguments).

    The keyword arguments are seams for tests and benchmarks; production uses the defaults.

    Raises:
        ContractError: the environment does not hold a valid pipeline and settings.
    """
    config = decode_runner_env(os.environ if env is None else env)
    if configure_logs:
        pipeline = config.pipeline
        configure_json_logging(
            static={"pipeline_id": pipeline.pipeline_id, "pipeline_version": pipeline.version}
        )
    runtime = Runtime(
        config,
        env=os.environ if env is None else env,
        resolver=resolver,
        egress_check=egress_check,
        sleep=sleep,
        drain_seconds=drain_seconds,
    )

    app = Starlette(
        routes=_routes(runtime),
        lifespan=_lifespan(runtime, handle_signals=handle_signals),
    )
    app.state.runtime = runtime
    return app


def _lifespan(
    runtime: Runtime, *, handle_signals: bool
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Start: chain the drain onto SIGTERM. Stop: restore the handlers, drain, close clients."""
    pipeline = runtime.config.pipeline

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        restore = _drain_on_signals(runtime.start_drain) if handle_signals else _nothing
        logger.info("serving pipeline %s version %d", pipeline.pipeline_id, pipeline.version)
        try:
            yield
        finally:
            restore()
            await runtime.close()

    return lifespan


def _routes(runtime: Runtime) -> list[Route]:
    async def receive_event(request: Request) -> Response:
        return await _answer_event(runtime, request)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        if runtime.ready:
            return JSONResponse({"ready": True})
        return JSONResponse({"ready": False, "reason": "draining"}, status_code=503)

    async def metrics(_: Request) -> Response:
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/", receive_event, methods=["POST"]),
        Route("/{path:path}", receive_event, methods=["POST"]),
    ]


async def _answer_event(runtime: Runtime, request: Request) -> Response:
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        outcome, event_id = await runtime.handle_event(
            request.scope["headers"], request.stream(), content_length=_content_length(request)
        )
        response = answers.success(outcome, event_id=event_id)
        label = outcome.value
    except RunnerError as error:
        response = answers.failure(error)
        label = answers.classify(error)[1]
        extra = {"status": response.status_code, "event_id": request.headers.get("ce-id")}
        logger.warning("event failed: %s", error, extra=extra)
    except Exception:
        # A bug: answer 500 (Knative retries) and log the traceback; nothing is swallowed.
        logger.exception("the runner failed while processing an event")
        response = answers.internal_error()
        label = "internal_error"
    runtime.metrics.events.labels(str(response.status_code), label).inc()
    runtime.metrics.duration.observe(loop.time() - started)
    return response


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def _nothing() -> None:
    """Nothing to restore."""


def _drain_on_signals(start_drain: Callable[[], object]) -> Callable[[], None]:
    """Chain a drain onto the current SIGTERM/SIGINT handlers (uvicorn's); return the undo."""
    if threading.current_thread() is not threading.main_thread():
        return _nothing
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in _DRAIN_SIGNALS}

    def handle(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(start_drain)
        handler = previous[signal.Signals(signum)]
        if callable(handler):
            handler(signum, frame)

    for sig in _DRAIN_SIGNALS:
        signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
