"""The runner's HTTP edge: the application factory, routes, lifespan and SIGTERM handling.

``create_app`` reads the runner contract from the environment (an invalid one raises
:class:`pipeline_models.ContractError`, which stops uvicorn with its message and exit status 1)
and serves:

* ``POST /`` (and any other path: a sink URI with a path must not get a 404, which Knative would
  retry forever) — one CloudEvent; answers per :mod:`pipeline_runner.answers`. Every ``POST``
  goes straight to :class:`pipeline_runner.receiving.EventEndpoint`, a plain ASGI app, without
  Starlette's middleware and routing: they would cost more than a simple pipeline's run;
* ``GET /healthz`` — liveness; ``GET /readyz`` — 503 once draining; ``GET /metrics`` — Starlette
  routes (other methods on ``/`` answer 405).

On SIGTERM (and SIGINT) the runner flips readiness, refuses new events (503) and drains the
in-flight ones (:mod:`pipeline_runner.admission`) while still listening; once they have all
answered it hands the signal on to uvicorn, which stops accepting connections and waits for the
open requests before the lifespan closes the clients.
"""

import asyncio
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from pipeline_models import decode_runner_env
from pipeline_runner.egress import EgressCheck, Resolver
from pipeline_runner.engine import Sleep
from pipeline_runner.jsonlog import configure_json_logging
from pipeline_runner.metrics import CONTENT_TYPE
from pipeline_runner.receiving import EventEndpoint
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

    app = RunnerApp(
        EventEndpoint(runtime),
        routes=_routes(runtime),
        lifespan=_lifespan(runtime, handle_signals=handle_signals),
    )
    app.state.runtime = runtime
    return app


class RunnerApp(Starlette):
    """Starlette for the lifespan and the GET endpoints; every POST straight to the events."""

    def __init__(self, events: EventEndpoint, **options: Any) -> None:
        super().__init__(**options)
        self._events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one ASGI connection."""
        if scope["type"] == "http" and scope["method"] == "POST":
            await self._events(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _lifespan(
    runtime: Runtime, *, handle_signals: bool
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Start: chain the drain onto SIGTERM. Stop: restore the handlers, drain, close clients."""
    pipeline = runtime.config.pipeline

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        restore = _drain_on_signals(runtime.start_drain) if handle_signals else _nothing
        runtime.loop = asyncio.get_running_loop()  # The server's requests run on this loop.
        logger.info("serving pipeline %s version %d", pipeline.pipeline_id, pipeline.version)
        try:
            yield
        finally:
            restore()
            await runtime.close()
            runtime.loop = None

    return lifespan


def _routes(runtime: Runtime) -> list[Route]:
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
        # POSTs never get here (RunnerApp sends them to the events); these answer 405 to others.
        Route("/", _never, methods=["POST"]),
        Route("/{path:path}", _never, methods=["POST"]),
    ]


async def _never(_: Request) -> Response:  # pragma: no cover - RunnerApp routes POSTs away
    raise AssertionError("RunnerApp sends every POST to the event endpoint")


def _nothing() -> None:
    """Nothing to restore."""


def _drain_on_signals(start_drain: Callable[[], asyncio.Task[None]]) -> Callable[[], None]:
    """Chain a drain onto the current SIGTERM/SIGINT handlers (uvicorn's); return the undo.

    The first signal starts the drain and hands the signal on to uvicorn only once the drain is
    over: until then uvicorn keeps listening, so ``/readyz`` answers 503 and new events get a
    503 ``shutting_down`` (which Knative retries elsewhere) rather than a refused connection.
    A second signal while draining is handed on at once (a second Ctrl-C still stops a dev
    server at once).
    """
    if threading.current_thread() is not threading.main_thread():
        return _nothing
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in _DRAIN_SIGNALS}
    draining = False

    def hand_on(signum: int, frame: FrameType | None) -> None:
        handler = previous[signal.Signals(signum)]
        if callable(handler):
            handler(signum, frame)

    def drain_then_hand_on(signum: int) -> None:
        start_drain().add_done_callback(lambda _: hand_on(signum, None))

    def handle(signum: int, frame: FrameType | None) -> None:
        nonlocal draining
        if draining:
            hand_on(signum, frame)
            return
        draining = True
        loop.call_soon_threadsafe(drain_then_hand_on, signum)

    for sig in _DRAIN_SIGNALS:
        signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
