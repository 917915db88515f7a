"""The step scheduler: runs one event through the pipeline's step graph.

* A step starts as soon as every step it needs has **succeeded**; independent steps run
  concurrently as tasks of one :class:`asyncio.TaskGroup` per event.
* Every attempt holds a slot of the pod-wide semaphore (``max_concurrency`` steps across all
  in-flight events) and runs under its own ``timeout_seconds``; waiting for a slot or for a
  backoff does not count against it.
* A step failing with a retryable error is retried up to ``retry.max_attempts``, waiting
  :func:`pipeline_models.backoff_seconds` with jitter (a random 50 to 100 % of it, never above the
  cap) — unless the wait would end past the pipeline deadline, when it gives up at once.
* A failed step marks every step depending on it (transitively) ``cancelled``: they never start.
  Steps that do not depend on it run on. A filter that does not pass marks its dependents
  ``skipped``; that is a success.
* The pipeline deadline itself is the caller's ``asyncio.timeout``: it cancels the task group.

Step failures do not raise: :meth:`Engine.run` returns a :class:`RunReport` and the caller
decides (:meth:`RunReport.raise_for_failures`). Anything that is not a ``StepError`` is a bug
and propagates (as an ``ExceptionGroup`` from the task group).
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any

from pipeline_models import FilterStep, Step, StepGraph, StepId, backoff_seconds
from pipeline_runner.errors import PipelineFailed, StepError, StepTimedOut
from pipeline_runner.steps import StepExecutor
from pipeline_runner.steps.filter import filter_passed

Sleep = Callable[[float], Awaitable[None]]
Jitter = Callable[[float], float]


class StepStatus(StrEnum):
    """How a step ended for one event."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    """A filter it depends on did not pass."""
    CANCELLED = "cancelled"
    """A step it depends on failed."""


def equal_jitter(delay: float) -> float:
    """A random wait between half of ``delay`` and ``delay`` (never above it)."""
    return random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not cryptography


class RunReport:
    """What happened to each step of one event."""

    def __init__(self) -> None:
        self.status: dict[StepId, StepStatus] = {}
        self.outputs: dict[StepId, Any] = {}
        self.attempts: dict[StepId, int] = {}
        self.failures: list[StepError] = []

    @property
    def filtered(self) -> bool:
        """True when a filter stopped part of the pipeline."""
        return StepStatus.SKIPPED in self.status.values()

    def raise_for_failures(self) -> None:
        """Raise :class:`PipelineFailed` when a step failed."""
        if self.failures:
            raise PipelineFailed(tuple(self.failures))


class Engine:
    """Runs events through one pipeline's steps; shared by every event of the process."""

    def __init__(
        self,
        *,
        steps: tuple[Step, ...],
        graph: StepGraph,
        executors: Mapping[StepId, StepExecutor],
        limiter: asyncio.Semaphore,
        sleep: Sleep = asyncio.sleep,
        jitter: Jitter = equal_jitter,
    ) -> None:
        self._steps = {step.id: step for step in steps}
        self._graph = graph
        self._executors = executors
        self._limiter = limiter
        self._sleep = sleep
        self._jitter = jitter

    async def run(self, event_view: dict[str, Any], *, deadline_at: float) -> RunReport:
        """Run every step for one event.

        Args:
            event_view: the event as expressions see it.
            deadline_at: loop time of the pipeline deadline (the caller enforces it); a retry
                whose backoff would end after it is not attempted.
        """
        report = RunReport()
        scope = {"event": event_view, "steps": report.outputs}
        started: set[StepId] = set()
        async with asyncio.TaskGroup() as group:

            def start(step_id: StepId) -> None:
                started.add(step_id)
                group.create_task(
                    self._run_step(step_id, scope, report, start, deadline_at),
                    name=f"step {step_id} of event {event_view.get('id')}",
                )

            for root in self._graph.roots():
                start(root)
        return report

    async def _run_step(
        self,
        step_id: StepId,
        scope: Mapping[str, Any],
        report: RunReport,
        start: Callable[[StepId], None],
        deadline_at: float,
    ) -> None:
        step = self._steps[step_id]
        try:
            output = await self._attempts(step, scope, report, deadline_at)
        except StepError as error:
            error.step_id = error.step_id or step_id
            report.status[step_id] = StepStatus.FAILED
            report.failures.append(error)
            self._mark_dependents(step_id, report, StepStatus.CANCELLED)
            return
        report.outputs[step_id] = output
        report.status[step_id] = StepStatus.SUCCEEDED
        if isinstance(step, FilterStep) and not filter_passed(output):
            self._mark_dependents(step_id, report, StepStatus.SKIPPED)
            return
        for dependent in self._graph.dependents[step_id]:
            needs = self._graph.needs[dependent]
            ready = all(report.status.get(need) is StepStatus.SUCCEEDED for need in needs)
            if ready and dependent not in report.status:
                start(dependent)

    def _mark_dependents(self, step_id: StepId, report: RunReport, status: StepStatus) -> None:
        for dependent in self._graph.dependents_of(step_id):
            report.status.setdefault(dependent, status)

    async def _attempts(
        self, step: Step, scope: Mapping[str, Any], report: RunReport, deadline_at: float
    ) -> Any:
        """Attempt a step until it succeeds, fails permanently, or runs out of attempts/time."""
        loop = asyncio.get_running_loop()
        failed = 0
        while True:
            report.attempts[step.id] = failed + 1
            try:
                return await self._attempt(step, scope)
            except StepError as error:
                failed += 1
                if not error.retryable or failed >= step.retry.max_attempts:
                    raise
                delay = self._jitter(backoff_seconds(step.retry, failed_attempts=failed))
                if loop.time() + delay >= deadline_at:
                    raise
            await self._sleep(delay)

    async def _attempt(self, step: Step, scope: Mapping[str, Any]) -> Any:
        async with self._limiter:
            try:
                async with asyncio.timeout(step.timeout_seconds):
                    return await self._executors[step.id](scope)
            except TimeoutError as error:
                raise StepTimedOut(
                    f"an attempt took longer than {step.timeout_seconds} s", step_id=step.id
                ) from error
