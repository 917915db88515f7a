"""The step scheduler: runs one event through the pipeline's step graph.

* A step starts as soon as every step it needs has **succeeded**; independent steps run
  concurrently in one :class:`asyncio.TaskGroup` per event. When a step finishes, the first
  step it made ready runs on in the same task and only the others get tasks of their own (a
  chain of steps never spawns one: a task costs more than a simple step). A pipeline whose
  graph is a chain (one root, every step at most one dependent) cannot run two steps at once,
  so it runs without a task group at all; when every step of such a chain runs inline,
  :meth:`Engine.run_inline` runs it without awaiting anything (the runtime then skips even the
  coroutines).
* Every attempt holds a slot of the pod-wide semaphore (``max_concurrency`` steps across all
  in-flight events) and runs under its own ``timeout_seconds``; waiting for a slot or for a
  backoff does not count against it. Steps whose executor can ``run_inline`` (pure rendering,
  see :mod:`pipeline_runner.steps`) run once, synchronously: no slot, no timeout, no retry.
* A step failing with a retryable error is retried up to ``retry.max_attempts``, waiting
  :func:`pipeline_models.backoff_seconds` with jitter (a random 50 to 100 % of it, never above the
  cap) — unless the wait would end past the pipeline deadline, when it gives up at once.
* A failed step marks every step depending on it (transitively) ``cancelled``: they never start.
  Steps that do not depend on it run on. A filter that does not pass marks its dependents
  ``skipped``; that is a success.
* The pipeline deadline itself is the caller's (the admission ticket): it cancels the task.

Step failures do not raise: :meth:`Engine.run` returns a :class:`RunReport` and the caller
decides (:meth:`RunReport.raise_for_failures`). Anything that is not a ``StepError`` is a bug
and propagates, always as an ``ExceptionGroup`` (the task group's, or one like it for a chain).
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any

from pipeline_models import FilterStep, Step, StepGraph, StepId, backoff_seconds
from pipeline_runner.errors import PipelineFailed, StepError, StepTimedOut
from pipeline_runner.steps import InlineExecutor, StepExecutor
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
        self._roots = graph.roots()
        self._chain = len(self._roots) == 1 and all(
            len(dependents) <= 1 for dependents in graph.dependents.values()
        )
        self._inline: dict[StepId, Callable[[Mapping[str, Any]], Any]] = {
            step_id: executor.run_inline
            for step_id, executor in executors.items()
            if isinstance(executor, InlineExecutor)
        }
        self._inline_chain: (
            tuple[tuple[StepId, Callable[[Mapping[str, Any]], Any], bool], ...] | None
        ) = (
            tuple(
                (step_id, self._inline[step_id], isinstance(self._steps[step_id], FilterStep))
                for step_id in graph.order
            )
            if self._chain and all(step_id in self._inline for step_id in graph.order)
            else None
        )
        self._executors = executors
        self._limiter = limiter
        self._sleep = sleep
        self._jitter = jitter

    @property
    def inline(self) -> bool:
        """True when every step runs inline and one after the other: :meth:`run_inline` runs
        the pipeline without awaiting anything (no deadline can strike mid-run)."""
        return self._inline_chain is not None

    def run_inline(self, event_view: dict[str, Any]) -> RunReport:
        """Run every step for one event, synchronously (only when :attr:`inline`)."""
        chain = self._inline_chain
        if chain is None:
            raise RuntimeError("this pipeline has steps that wait: use Engine.run")
        report = RunReport()
        scope = {"event": event_view, "steps": report.outputs}
        try:
            for step_id, render, is_filter in chain:
                report.attempts[step_id] = 1
                try:
                    output = render(scope)
                except StepError as error:
                    self._fail(step_id, error, report)
                    break
                if not self._succeed(step_id, output, report, is_filter=is_filter):
                    break
        except Exception as error:  # noqa: BLE001 - re-raised, grouped
            raise ExceptionGroup("a step failed unexpectedly", [error]) from None
        return report

    async def run(self, event_view: dict[str, Any], *, deadline_at: float) -> RunReport:
        """Run every step for one event.

        Args:
            event_view: the event as expressions see it.
            deadline_at: loop time of the pipeline deadline (the caller enforces it); a retry
                whose backoff would end after it is not attempted.
        """
        report = RunReport()
        scope = {"event": event_view, "steps": report.outputs}
        if self._chain:
            await self._run_chain(scope, report, deadline_at)
            return report
        async with asyncio.TaskGroup() as group:
            start = _Starter(
                self,
                group,
                scope=scope,
                report=report,
                deadline_at=deadline_at,
                event_id=event_view.get("id"),
            )
            first, *others = self._roots
            for root in others:
                start(root)
            await self._run_from(first, scope, report, start, deadline_at)
        return report

    async def _run_chain(
        self, scope: Mapping[str, Any], report: RunReport, deadline_at: float
    ) -> None:
        """Run a chain of steps in order, in this task; stop where one fails or filters."""
        current: StepId | None = self._roots[0]
        try:
            while current is not None:
                ready = await self._run_step(current, scope, report, deadline_at)
                current = ready[0] if ready else None
        except Exception as error:  # noqa: BLE001 - re-raised, grouped
            # The contract of a task group, without one: a bug comes as an ExceptionGroup.
            raise ExceptionGroup("a step failed unexpectedly", [error]) from None

    async def _run_from(
        self,
        step_id: StepId,
        scope: Mapping[str, Any],
        report: RunReport,
        start: Callable[[StepId], None],
        deadline_at: float,
    ) -> None:
        """Run a step, then the steps it makes ready: the first here, the others as tasks."""
        current: StepId | None = step_id
        while current is not None:
            ready = await self._run_step(current, scope, report, deadline_at)
            current = ready[0] if ready else None
            for other in ready[1:]:
                start(other)

    async def _run_step(
        self, step_id: StepId, scope: Mapping[str, Any], report: RunReport, deadline_at: float
    ) -> list[StepId]:
        """Run one step (all its attempts); return the dependents it made ready to start."""
        step = self._steps[step_id]
        inline = self._inline.get(step_id)
        try:
            if inline is not None:
                report.attempts[step_id] = 1
                output = inline(scope)
            else:
                output = await self._attempts(step, scope, report, deadline_at)
        except StepError as error:
            self._fail(step_id, error, report)
            return []
        if not self._succeed(step_id, output, report, is_filter=isinstance(step, FilterStep)):
            return []
        ready: list[StepId] = []
        for dependent in self._graph.dependents[step_id]:
            needs = self._graph.needs[dependent]
            done = all(report.status.get(need) is StepStatus.SUCCEEDED for need in needs)
            if done and dependent not in report.status:
                ready.append(dependent)
        return ready

    def _succeed(self, step_id: StepId, output: Any, report: RunReport, *, is_filter: bool) -> bool:
        """Record a step's output; False when it is a filter that did not pass (its dependents
        are then skipped)."""
        report.outputs[step_id] = output
        report.status[step_id] = StepStatus.SUCCEEDED
        if is_filter and not filter_passed(output):
            self._mark_dependents(step_id, report, StepStatus.SKIPPED)
            return False
        return True

    def _fail(self, step_id: StepId, error: StepError, report: RunReport) -> None:
        error.step_id = error.step_id or step_id
        report.status[step_id] = StepStatus.FAILED
        report.failures.append(error)
        self._mark_dependents(step_id, report, StepStatus.CANCELLED)

    def _mark_dependents(self, step_id: StepId, report: RunReport, status: StepStatus) -> None:
        for dependent in self._graph.dependents_of(step_id):
            report.status.setdefault(dependent, status)

    async def _attempts(
        self, step: Step, scope: Mapping[str, Any], report: RunReport, deadline_at: float
    ) -> Any:
        """Attempt a step until it succeeds, fails permanently, or runs out of attempts/time."""
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
                if asyncio.get_running_loop().time() + delay >= deadline_at:
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


class _Starter:
    """Starts a step as a task of one event's group, to run it and the steps it makes ready.

    An object rather than a closure: the closure would refer to itself (it hands itself to the
    steps it starts), a reference cycle that leaves each event's group, report and scope for
    the garbage collector instead of freeing them as the event ends.
    """

    __slots__ = ("_deadline_at", "_engine", "_event_id", "_group", "_report", "_scope")

    def __init__(
        self,
        engine: Engine,
        group: asyncio.TaskGroup,
        *,
        scope: Mapping[str, Any],
        report: RunReport,
        deadline_at: float,
        event_id: object,
    ) -> None:
        self._engine = engine
        self._group = group
        self._scope = scope
        self._report = report
        self._deadline_at = deadline_at
        self._event_id = event_id

    def __call__(self, step_id: StepId) -> None:
        """Start ``step_id`` in a task of its own."""
        self._group.create_task(
            self._engine._run_from(step_id, self._scope, self._report, self, self._deadline_at),
            name=f"step {step_id} of event {self._event_id}",
        )
