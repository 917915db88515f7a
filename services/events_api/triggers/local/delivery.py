"""Deliver one event to the pipeline's runner with the pipeline's retries, as a KafkaSource does.

Each attempt is one POST bounded by the delivery timeout; what is retried and how long to wait
between attempts is :mod:`events_api.triggers.local.retrying`. Each attempt goes to the runner
serving *now* (:class:`Target`): during a rollout a retried event reaches the new version. An
attempt may first wait for one of the runner's slots (the queue-proxy's part: the runner is never
sent more events than it admits).
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from events_api.triggers.local.encoding import EventRequest
from events_api.triggers.local.retrying import (
    BackoffSchedule,
    Random,
    is_retryable,
    is_success,
)

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
ERROR_DATA_BYTES = 1024
"""How much of the last answer's body travels as `knativeerrordata` (KNATIVE.md: 1 KiB)."""


class Target:
    """Where events go: the URL of the runner that serves the pipeline now (None: no runner)."""

    def __init__(self) -> None:
        self._url: str | None = None
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str | None:
        """The current runner's URL, if any."""
        return self._url

    async def switch(self, url: str | None) -> None:
        """Send every later attempt to `url` (None: hold them until a runner serves)."""
        async with self._changed:
            self._url = url
            self._changed.notify_all()

    async def wait_url(self) -> str:
        """The current URL, waiting (without polling) while there is none."""
        async with self._changed:
            url: str | None = await self._changed.wait_for(lambda: self._url)
            return url or ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How a delivery ended: delivered, or failed for good (then: the last attempt's result)."""

    delivered: bool
    attempts: int
    url: str
    """Where the last attempt went (`knativeerrordest`)."""
    status: int | None = None
    """The last answer's status; None when the last attempt got no answer."""
    data: bytes = b""
    """The first KiB of the last answer's body (`knativeerrordata`)."""
    error: str | None = None
    """Why the last attempt got no answer."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    """A pipeline's delivery options, resolved: the schedule and one attempt's timeout."""

    schedule: BackoffSchedule
    attempt_timeout: float
    connect_timeout: float


async def deliver(
    client: httpx.AsyncClient,
    event: EventRequest,
    *,
    target: Target,
    policy: DeliveryPolicy,
    random: Random,
    slots: asyncio.Semaphore | None = None,
    sleep: Sleep = asyncio.sleep,
) -> Outcome:
    """POST `event` until a 2xx, a final status, or the attempts are spent.

    With `slots`, each attempt first takes one (held for the POST only, not the backoff).
    """
    schedule = policy.schedule
    phases = httpx.Timeout(policy.attempt_timeout, connect=policy.connect_timeout)
    attempt = 0
    while True:
        attempt += 1
        async with slots if slots is not None else contextlib.nullcontext():
            url = await target.wait_url()
            outcome = await _attempt(client, event, url=url, phases=phases, policy=policy)
        outcome_status = outcome.status
        if outcome.delivered:
            return Outcome(delivered=True, attempts=attempt, url=url, status=outcome_status)
        if attempt >= schedule.attempts or not is_retryable(outcome_status):
            return Outcome(
                delivered=False,
                attempts=attempt,
                url=url,
                status=outcome_status,
                data=outcome.data,
                error=outcome.error,
            )
        logger.debug(
            "attempt %d of event %s failed (%s); retrying",
            attempt,
            event.header("ce-id"),
            outcome_status if outcome_status is not None else outcome.error,
        )
        await sleep(schedule.wait(attempt, random=random))


async def _attempt(
    client: httpx.AsyncClient,
    event: EventRequest,
    *,
    url: str,
    phases: httpx.Timeout,
    policy: DeliveryPolicy,
) -> Outcome:
    try:
        # httpx's own timeouts are per phase; this bounds the attempt as a whole.
        async with asyncio.timeout(policy.attempt_timeout + policy.connect_timeout):
            response = await client.post(
                url, headers=list(event.headers), content=event.body, timeout=phases
            )
    except (httpx.TransportError, TimeoutError) as error:
        return Outcome(
            delivered=False, attempts=1, url=url, error=f"{type(error).__name__}: {error}"
        )
    status = response.status_code
    return Outcome(
        delivered=is_success(status),
        attempts=1,
        url=url,
        status=status,
        data=response.content[:ERROR_DATA_BYTES],
    )
