"""Admitting events: bounded concurrency, the pipeline deadline, and the drain after SIGTERM.

Every event holds a :class:`Ticket` while it is processed. :meth:`Admission.enter` refuses a new
event when the pod already processes ``limit`` events (:class:`Overloaded`, a 429 Knative
retries) or is draining (:class:`ShuttingDown`, a 503). :meth:`Admission.drain` stops taking
events, waits up to a grace period for the in-flight ones, then cuts the rest by moving their
deadline to now: their engines cancel their steps and they answer 503, so Knative redelivers
them to another pod. Nothing is abandoned without an answer.

The deadline: each event's ticket is its deadline scope, and one task, started with the first
event, sleeps until the earliest deadline among the tickets and expires the ones that reached
theirs. ``asyncio.timeout_at`` per event would cost a loop timer created and cancelled, and a
coroutine enter and exit, for every event — a sizeable share of a short pipeline's run; the
deadlines are seconds long, so one timer for all of them loses no precision.
"""

import asyncio
import contextlib
from types import TracebackType
from typing import Any

from pipeline_runner.errors import Overloaded, ShuttingDown

_FOREVER = float("inf")


class Ticket:
    """One admitted event, and its deadline scope: a context manager, entered by the event's
    task, that gives the place back on leaving.

    When the deadline (or the drain) expires it, the task is cancelled and, on leaving, that
    cancellation becomes a :class:`TimeoutError` — exactly what ``asyncio.timeout`` does, without
    its loop timer or its coroutine enter and exit (see the module docstring).
    """

    __slots__ = ("_admission", "_cancelling", "_task", "cut", "deadline_at", "timed_out")

    def __init__(
        self, admission: "Admission", deadline_at: float, task: "asyncio.Task[Any] | None"
    ) -> None:
        self._admission = admission
        self._task = task
        # Cancellations already requested when the scope began are not ours to convert.
        self._cancelling = self._task.cancelling() if self._task is not None else 0
        self.deadline_at = deadline_at
        """Loop time of the event's pipeline deadline."""
        self.cut = False
        """True when the drain expired this event's deadline."""
        self.timed_out = False
        """True once the deadline (or the drain) expired the scope."""

    def __enter__(self) -> "Ticket":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._admission.leave(self)
        task = self._task
        if (
            self.timed_out
            and kind is asyncio.CancelledError
            and task is not None
            and task.uncancel() <= self._cancelling
        ):
            raise TimeoutError from error

    def expire(self, *, cut: bool = False) -> None:
        """End the event now: its deadline passed, or (``cut``) the drain's grace is over."""
        self.cut = self.cut or cut
        if self.timed_out:
            return
        self.timed_out = True
        if self._task is not None:
            # The task is suspended inside the scope (a ticket lives exactly as long as it).
            self._task.cancel()


class Admission:
    """The pod's in-flight events."""

    def __init__(self, *, limit: int, deadline_seconds: float) -> None:
        """``deadline_seconds``: how far from its entry an event's deadline is, at the least."""
        self._limit = limit
        self._deadline_seconds = deadline_seconds
        self._tickets: set[Ticket] = set()
        self._idle: asyncio.Future[None] | None = None
        """What :meth:`drain` waits on while events are in flight (an ``asyncio.Event`` would be
        cleared and set around every event)."""
        self._deadlines: asyncio.Task[None] | None = None
        self._wake_at = -_FOREVER
        """When the deadline task looks at the tickets next (``-inf``: as soon as it runs)."""
        self.draining = False
        """True after SIGTERM: readiness fails and new events are refused."""

    @property
    def in_flight(self) -> int:
        """Events being processed now."""
        return len(self._tickets)

    def enter(self, *, deadline_at: float, task: "asyncio.Task[Any] | None" = None) -> Ticket:
        """Admit one event: ``with admission.enter(...) as ticket:`` for as long as it runs, in
        the event's task (the deadline cancels that task; leaving turns it into TimeoutError).

        ``deadline_at`` (loop time) is when its scope expires; every event of a pod gets the
        same deadline duration, so a new ticket never has an earlier deadline than the others.
        ``task`` is the event's task, the current one by default (a caller that knows its loop
        passes it: looking the loop up costs a system call on every event, see
        :attr:`pipeline_runner.runtime.Runtime.loop`).

        (A class rather than ``@contextmanager``: this runs for every event.)

        Raises:
            ShuttingDown: the pod is draining.
            Overloaded: ``limit`` events are in flight.
        """
        if self.draining:
            raise ShuttingDown("this runner is shutting down; the event will be redelivered")
        if len(self._tickets) >= self._limit:
            raise Overloaded(f"this runner already processes {self._limit} events; retry later")
        ticket = Ticket(self, deadline_at, task or asyncio.current_task())
        self._tickets.add(ticket)
        if self._deadlines is None or deadline_at < self._wake_at:
            # No deadline task, or one asleep past this deadline (it counted on events being
            # at least `deadline_seconds` away): start one that looks at the tickets now.
            if self._deadlines is not None:
                self._deadlines.cancel()
            self._wake_at = -_FOREVER
            self._deadlines = asyncio.get_running_loop().create_task(
                self._enforce_deadlines(), name="event deadlines"
            )
        return ticket

    def leave(self, ticket: Ticket) -> None:
        """The event of ``ticket`` is over (called when its ``with`` block ends)."""
        tickets = self._tickets
        tickets.discard(ticket)
        if not tickets and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    async def drain(self, *, grace_seconds: float) -> None:
        """Stop admitting, wait up to ``grace_seconds`` for in-flight events, cut the rest."""
        self.draining = True
        if not self._tickets:
            return
        if self._idle is None:
            self._idle = asyncio.get_running_loop().create_future()
        idle = self._idle
        try:
            async with asyncio.timeout(grace_seconds):
                await asyncio.shield(idle)
        except TimeoutError:
            for ticket in list(self._tickets):
                ticket.expire(cut=True)
            # Cut events answer as soon as their steps have been cancelled.
            await asyncio.shield(idle)

    async def close(self) -> None:
        """Stop enforcing deadlines (after the drain: no event is left to time out)."""
        if self._deadlines is not None:
            self._deadlines.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deadlines

    async def _enforce_deadlines(self) -> None:
        """Sleep until the earliest deadline, expire the tickets that reached theirs; end after
        a whole ``deadline_seconds`` without events (the next event starts it again).

        With no event in flight it sleeps ``deadline_seconds``: an event entering meanwhile has
        its deadline at least that far from its entry, so none is missed, and the task is not
        restarted for every event that finds the pod idle between two others.
        """
        loop = asyncio.get_running_loop()
        idle = False
        try:
            while True:
                now = loop.time()
                waiting = [t.deadline_at for t in self._tickets if not t.timed_out]
                if waiting:
                    idle, wake_at = False, min(waiting)
                elif idle:
                    return
                else:
                    idle, wake_at = True, now + self._deadline_seconds
                if wake_at > now:
                    self._wake_at = wake_at
                    await asyncio.sleep(wake_at - now)
                    self._wake_at = -_FOREVER
                    continue
                for ticket in list(self._tickets):
                    if not ticket.timed_out and ticket.deadline_at <= now:
                        ticket.expire()
        finally:
            if self._deadlines is asyncio.current_task():  # Not when a newer one replaced it.
                self._deadlines = None
