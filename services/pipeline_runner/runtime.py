"""Everything one runner process owns, wired from its :class:`RunnerConfig`, and the event path.

Per event: admission (bounded concurrency, refused while draining) → the pipeline deadline
starts → the body is read within ``max_body_bytes`` (by the HTTP edge's reader,
:mod:`pipeline_runner.receiving`) → the CloudEvent is decoded →
deduplication → the engine runs the steps → the outcome, or a :class:`RunnerError` for
:mod:`pipeline_runner.answers` to turn into a status. The process's long-lived resources (the
http client, the lazily started Kafka producer, the drain task) are created here and closed by
:meth:`Runtime.close`.
"""

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping

from pipeline_models import RunnerConfig, Step
from pipeline_runner.admission import Admission
from pipeline_runner.answers import Outcome
from pipeline_runner.decoding import decode_event
from pipeline_runner.dedup import Claim, DedupWindow
from pipeline_runner.egress import (
    EgressCheck,
    Resolver,
    SystemResolver,
    guarded_client,
    kubernetes_api_addresses,
    policy_check,
)
from pipeline_runner.engine import Engine, RunReport, Sleep
from pipeline_runner.errors import (
    DeadlineExceeded,
    DuplicateInFlight,
    PipelineFailed,
    ShuttingDown,
)
from pipeline_runner.event import CloudEvent, expression_view
from pipeline_runner.metrics import RunnerMetrics
from pipeline_runner.producing import RecordProducer
from pipeline_runner.steps import build_executors

logger = logging.getLogger("pipeline_runner")
step_logger = logging.getLogger("pipeline_runner.steps")

Remembered = str | PipelineFailed
"""What the duplicate window keeps of a finished event: the outcome's value (a plain str, not
the enum member, so that the window's entries are atomic and the garbage collector stops
tracking them: a full collection would otherwise walk every remembered event), or the
permanent failure to answer again (a copy without tracebacks: see :func:`detached`)."""

_REMEMBERED_OUTCOMES: dict[Outcome, Remembered] = {outcome: outcome.value for outcome in Outcome}

BodyReader = Callable[[int], Awaitable[bytes]]
"""Reads the request body whole, refusing one over the given number of bytes
(:class:`pipeline_runner.errors.EventTooLarge`)."""


class Runtime:
    """The runner's collaborators for one pipeline version, and its event path."""

    def __init__(
        self,
        config: RunnerConfig,
        *,
        env: Mapping[str, str],
        resolver: Resolver | None = None,
        egress_check: EgressCheck | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        drain_seconds: float | None = None,
    ) -> None:
        settings = config.settings
        spec = config.pipeline.spec
        self.config = config
        self.admission = Admission(
            limit=event_limit(config), deadline_seconds=config.deadline_seconds
        )
        admission = self.admission
        self.metrics = RunnerMetrics(in_flight=lambda: admission.in_flight)
        self.dedup: DedupWindow[Remembered] = DedupWindow(settings.dedup, clock=clock)
        self.producer = RecordProducer(settings.kafka, env=env)
        check = egress_check or policy_check(
            settings.egress, kubernetes_api_addresses=kubernetes_api_addresses(env)
        )
        self.http = guarded_client(resolver=resolver or SystemResolver(), check=check)
        self.engine = Engine(
            steps=spec.steps,
            graph=config.graph,
            executors=build_executors(
                spec.steps,
                pipeline_id=config.pipeline.pipeline_id,
                http=self.http,
                producer=self.producer,
                logger=step_logger,
            ),
            limiter=asyncio.Semaphore(settings.max_concurrency),
            sleep=sleep,
        )
        self._step_types = {step.id: _type_of(step) for step in spec.steps}
        self._drain_seconds = config.deadline_seconds if drain_seconds is None else drain_seconds
        self._drain_task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        """The loop the app serves on, set by its lifespan (None: looked up per event).

        Python 3.11's ``asyncio.get_running_loop()`` makes a ``getpid()`` system call each
        time (to notice a fork); on the per-event path that costs more than a simple step.
        """

    @property
    def ready(self) -> bool:
        """False once draining: Knative stops routing here."""
        return not self.admission.draining

    async def handle_event(
        self, headers: Iterable[tuple[bytes, bytes]], read_body: BodyReader
    ) -> tuple[Outcome, str]:
        """Process one event request; return the outcome and the event id.

        Raises:
            RunnerError: every failure, for :mod:`pipeline_runner.answers` to answer.
        """
        loop = self.loop or asyncio.get_running_loop()
        deadline_at = loop.time() + self.config.deadline_seconds
        ticket = self.admission.enter(deadline_at=deadline_at, task=asyncio.current_task(loop))
        try:
            # The ticket is the deadline scope: expired, it cancels this task, and leaving it
            # turns that into TimeoutError (no loop timer per event; see `admission`).
            with ticket:
                body = await read_body(self.config.settings.max_body_bytes)
                event = decode_event(headers, body)
                key = event.dedup_key
                duplicate = self._claim(event, key)
                if duplicate is not None:
                    return duplicate, event.id
                final: Remembered | None = None
                try:
                    engine = self.engine
                    # A pipeline of inline steps runs without awaiting: no coroutine per step.
                    report = (
                        engine.run_inline(expression_view(event))
                        if engine.inline
                        else await engine.run(expression_view(event), deadline_at=deadline_at)
                    )
                    outcome = self._outcome_of(report)
                except PipelineFailed as error:
                    # A permanent failure is final too: a redelivery must get the same answer.
                    final = None if error.retryable else detached(error)
                    raise
                else:
                    final = _REMEMBERED_OUTCOMES[outcome]
                finally:
                    self.dedup.release(key, remember=final)
                return outcome, event.id
        except TimeoutError as error:
            if not ticket.timed_out:
                raise
            if ticket.cut:
                raise ShuttingDown(
                    "this runner shut down before the event finished; it will be redelivered"
                ) from error
            raise DeadlineExceeded(
                f"the event did not finish within the pipeline deadline "
                f"({self.config.deadline_seconds} s)"
            ) from error

    def _claim(self, event: CloudEvent, key: tuple[str, str]) -> Outcome | None:
        """Claim the event in the duplicate window: None to run it, DUPLICATE when it already
        succeeded.

        Raises:
            RunnerError: the remembered permanent failure of an earlier delivery.
            DuplicateInFlight: another delivery of the event is running.
        """
        claim, remembered = self.dedup.claim(key)
        if claim is Claim.NEW:
            return None
        if claim is Claim.DONE:
            if isinstance(remembered, PipelineFailed):
                raise detached(remembered)  # The remembered one is never raised: see detached.
            return Outcome.DUPLICATE
        raise DuplicateInFlight(
            f"event {event.id!r} from {event.source!r} is being processed by another delivery"
        )

    def _outcome_of(self, report: RunReport) -> Outcome:
        """Count the steps; the outcome, or :class:`PipelineFailed` when a step failed."""
        step_types, count_step = self._step_types, self.metrics.count_step
        for step_id, status in report.status.items():
            count_step(step_id, step_types[step_id], status)  # a StrEnum: the str itself
        report.raise_for_failures()
        return Outcome.FILTERED if report.filtered else Outcome.SUCCEEDED

    def start_drain(self) -> asyncio.Task[None]:
        """Stop taking events and drain the in-flight ones (idempotent; SIGTERM calls it)."""
        if self._drain_task is None:
            self.admission.draining = True
            in_flight = self.admission.in_flight
            logger.info("draining: no new events; waiting for %d in flight", in_flight)
            self._drain_task = asyncio.create_task(
                self.admission.drain(grace_seconds=self._drain_seconds), name="drain"
            )
        return self._drain_task

    async def close(self) -> None:
        """Drain, then close the http client and the Kafka producer; safe to call twice."""
        await asyncio.shield(self.start_drain())
        await asyncio.shield(self.admission.close())
        await asyncio.shield(self.producer.close())
        await asyncio.shield(self.http.aclose())


def detached(error: PipelineFailed) -> PipelineFailed:
    """A copy of ``error`` and of its step errors without tracebacks, causes or contexts.

    What the duplicate window keeps: a raised exception's traceback holds the frames it went
    through, and with them the request (its body included) and the step's scope, for as long as
    the window remembers the event — thousands of events, each with its body.
    """
    return PipelineFailed(tuple(copy.copy(failure) for failure in error.failures))


def event_limit(config: RunnerConfig) -> int:
    """Events one pod processes at once: Knative's ``containerConcurrency``, else the step cap."""
    concurrency = config.pipeline.spec.options.scaling.container_concurrency
    return concurrency or config.settings.max_concurrency


def _type_of(step: Step) -> str:
    return type(step).__name__.removesuffix("Step").lower()
