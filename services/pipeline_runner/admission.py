"""Admitting events: bounded concurrency, and the drain after SIGTERM.

Every event holds a :class:`Ticket` while it is processed. :meth:`Admission.enter` refuses a new
event when the pod already processes ``limit`` events (:class:`Overloaded`, a 429 Knative
retries) or is draining (:class:`ShuttingDown`, a 503). :meth:`Admission.drain` stops taking
events, waits up to a grace period for the in-flight ones, then cuts the rest by moving their
deadline to now: their engines cancel their steps and they answer 503, so Knative redelivers
them to another pod. Nothing is abandoned without an answer.
"""

import asyncio
from types import TracebackType

from pipeline_runner.errors import Overloaded, ShuttingDown


class Ticket:
    """One admitted event; holds the timeout scope the drain may cut short.

    A context manager: leaving it (however the event ended) gives the place back.
    """

    def __init__(self, admission: "Admission") -> None:
        self._admission = admission
        self.scope: asyncio.Timeout | None = None
        self.cut = False
        """True when the drain expired this event's deadline."""

    def __enter__(self) -> "Ticket":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._admission.leave(self)

    def watch(self, scope: asyncio.Timeout) -> None:
        """Let the drain cut the event by expiring ``scope``."""
        self.scope = scope
        if self.cut:
            scope.reschedule(asyncio.get_running_loop().time())

    def expire(self) -> None:
        """Cut the event now (the drain's grace period is over)."""
        self.cut = True
        if self.scope is not None and not self.scope.expired():
            self.scope.reschedule(asyncio.get_running_loop().time())


class Admission:
    """The pod's in-flight events."""

    def __init__(self, *, limit: int) -> None:
        self._limit = limit
        self._tickets: set[Ticket] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self.draining = False
        """True after SIGTERM: readiness fails and new events are refused."""

    @property
    def in_flight(self) -> int:
        """Events being processed now."""
        return len(self._tickets)

    def enter(self) -> Ticket:
        """Admit one event: ``with admission.enter() as ticket:`` for as long as it runs.

        (A class rather than ``@contextmanager``: this runs for every event.)

        Raises:
            ShuttingDown: the pod is draining.
            Overloaded: ``limit`` events are in flight.
        """
        if self.draining:
            raise ShuttingDown("this runner is shutting down; the event will be redelivered")
        if len(self._tickets) >= self._limit:
            raise Overloaded(f"this runner already processes {self._limit} events; retry later")
        ticket = Ticket(self)
        self._tickets.add(ticket)
        self._idle.clear()
        return ticket

    def leave(self, ticket: Ticket) -> None:
        """The event of ``ticket`` is over (called when its ``with`` block ends)."""
        self._tickets.discard(ticket)
        if not self._tickets:
            self._idle.set()

    async def drain(self, *, grace_seconds: float) -> None:
        """Stop admitting, wait up to ``grace_seconds`` for in-flight events, cut the rest."""
        self.draining = True
        try:
            async with asyncio.timeout(grace_seconds):
                await self._idle.wait()
        except TimeoutError:
            for ticket in list(self._tickets):
                ticket.expire()
            # Cut events answer as soon as their steps have been cancelled.
            await self._idle.wait()
