"""The event endpoint as a plain ASGI application: every ``POST``, on any path, is one CloudEvent.

This is the per-event hot path, so it speaks ASGI itself instead of going through Starlette's
middleware, router, ``Request`` and ``Response`` (which cost more than decoding the event and
running a simple step): it hands the raw headers and a body reader to
:meth:`pipeline_runner.runtime.Runtime.handle_event`, turns the outcome or the error into an
answer (:mod:`pipeline_runner.answers` chooses every status), counts it, and writes it as two
ASGI messages. Nothing is logged for a success; a failure logs one warning line, a bug its
traceback (and answers 500, which Knative retries).
"""

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Final

from pipeline_runner import answers
from pipeline_runner.errors import ClientDisconnected, EventTooLarge, RunnerError
from pipeline_runner.runtime import Runtime

logger = logging.getLogger("pipeline_runner")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON: Final = (b"content-type", b"application/json")


class EventEndpoint:
    """Receives events for one runtime (ASGI ``http`` scopes only)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        """Process the event of one request and answer it."""
        runtime = self._runtime
        started = time.perf_counter()
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        try:
            read = functools.partial(read_body, receive, headers)
            outcome, event_id = await runtime.handle_event(headers, read)
            answer = answers.success(outcome, event_id=event_id)
        except RunnerError as error:
            answer = answers.failure(error)
            extra = {"status": answer.status, "event_id": _event_id(headers)}
            logger.warning("event failed: %s", error, extra=extra)
        except Exception:
            # A bug: answer 500 (Knative retries) and log the traceback; nothing is swallowed.
            logger.exception("the runner failed while processing an event")
            answer = answers.internal_error()
        runtime.metrics.count_event(
            answer.status, answer.label, seconds=time.perf_counter() - started
        )
        length = (b"content-length", b"%d" % len(answer.body))
        start = {"type": "http.response.start", "status": answer.status, "headers": [_JSON, length]}
        await send(start)
        await send({"type": "http.response.body", "body": answer.body})


async def read_body(receive: Receive, headers: Iterable[tuple[bytes, bytes]], limit: int) -> bytes:
    """Read a request body, refusing one over ``limit`` bytes before (by its declared length)
    and while reading it.

    Raises:
        EventTooLarge: the declared or the received body is over ``limit`` bytes.
    """
    declared = content_length(headers)
    if declared is not None and declared > limit:
        raise EventTooLarge(f"the event is {declared} bytes; this runner accepts {limit}")
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnected("the sender disconnected before the whole event arrived")
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise EventTooLarge(f"the event exceeds {limit} bytes, the most this runner accepts")
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return parts[0] if len(parts) == 1 else b"".join(parts)


def content_length(headers: Iterable[tuple[bytes, bytes]]) -> int | None:
    """The declared ``Content-Length``, or None when absent or not a number."""
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _event_id(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"ce-id":
            return value.decode("utf-8", errors="replace")
    return None
