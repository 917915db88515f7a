"""`events start --wait`: long-poll the trigger's status until it is ready or time is up.

The first poll answers at once (so the user sees why the trigger is not ready yet); each later
one is `GET /api/v1/events/{id}?wait=N` with N the time left, capped (the API refuses more than
60 s and may cap lower, answering early). A long-poll that comes back early and not ready is
followed by a short pause, so a server that does not long-poll is not hammered. Once time is up,
one last look. Time and sleep are injected, so the loop is tested with a fake clock.
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

JsonObject = dict[str, Any]


class StatusSource(Protocol):
    """Where statuses come from (the API client)."""

    async def event_status(self, pipeline_id: str, *, wait_seconds: int = 0) -> JsonObject:
        """The trigger's status, long-polling up to `wait_seconds` until it is ready."""
        ...


@dataclass(frozen=True, kw_only=True)
class WaitPolicy:
    """How long and how often to poll."""

    timeout_seconds: float
    """The whole wait; at least one poll is made even when it is 0."""
    poll_cap_seconds: int = 30
    """The longest `?wait=` of one poll (the API allows up to 60)."""
    min_interval_seconds: float = 1.0
    """The shortest time between the starts of two polls."""


@dataclass(frozen=True, kw_only=True)
class WaitOutcome:
    """How the wait ended: ready or not, with the last status the API answered."""

    ready: bool
    status: JsonObject
    waited_seconds: float


def is_ready(status: JsonObject) -> bool:
    """Whether a status says the trigger is ready AND consuming: the runner is `ready` and the
    source too (`source_ready`), so records produced from now on are processed (with the default
    `initial_offset: latest`, records produced before the source holds its partitions are not)."""
    return status.get("ready") is True and status.get("source_ready") is True


async def wait_until_ready(
    source: StatusSource,
    pipeline_id: str,
    *,
    policy: WaitPolicy,
    on_status: Callable[[JsonObject], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> WaitOutcome:
    """Poll until the trigger is ready or `policy.timeout_seconds` have passed.

    Raises:
        ClientError: a poll failed (e.g. the trigger was stopped meanwhile: NotFound).
    """
    started = clock()
    deadline = started + policy.timeout_seconds
    first = True
    while True:
        poll_started = clock()
        left = deadline - poll_started
        wait = 0 if first else max(0, min(policy.poll_cap_seconds, math.ceil(left)))
        first = False
        status = await source.event_status(pipeline_id, wait_seconds=wait)
        on_status(status)
        now = clock()
        if is_ready(status) or now >= deadline:
            return WaitOutcome(ready=is_ready(status), status=status, waited_seconds=now - started)
        pause = min(policy.min_interval_seconds - (now - poll_started), deadline - now)
        if wait > 0 and pause > 0:
            await sleep(pause)
