"""The step executors, one module per step type, built once per process from the spec.

An executor is an async callable ``scope -> output``: it renders its templates against
``{"event": …, "steps": {…}}``, does its work, and returns what the step publishes as
``steps.<id>`` (see :mod:`pipeline_models.steps`). Executors raise only
:class:`pipeline_runner.errors.StepError`; retry, timeout and scheduling are the engine's.

An executor that never awaits anything (``transform``, ``filter``, ``log``: pure rendering) also
has a synchronous ``run_inline(scope)`` (:class:`InlineExecutor`). The engine calls that, once,
in the event's task: no concurrency slot, no timeout, no retry — none could apply to code that
does not wait and renders the same way every time, and each costs more than such a step's work.
"""

import logging
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import httpx

from pipeline_models import (
    FilterStep,
    HttpStep,
    KafkaStep,
    LogStep,
    PipelineId,
    Step,
    StepId,
    TransformStep,
)
from pipeline_runner.steps.filter import FilterExecutor
from pipeline_runner.steps.http import HttpExecutor
from pipeline_runner.steps.kafka import KafkaExecutor, Producer
from pipeline_runner.steps.log import LogExecutor
from pipeline_runner.steps.rendering import Scope
from pipeline_runner.steps.transform import TransformExecutor


class StepExecutor(Protocol):
    """Runs one attempt of one step for one event."""

    async def __call__(self, scope: Scope) -> Any:
        """Return the step's output, or raise a StepError."""
        ...


@runtime_checkable
class InlineExecutor(StepExecutor, Protocol):
    """An executor whose work never waits, callable without a coroutine."""

    def run_inline(self, scope: Scope) -> Any:
        """Return the step's output, or raise a (permanent) StepError."""
        ...


def build_executors(
    steps: Sequence[Step],
    *,
    pipeline_id: PipelineId,
    http: httpx.AsyncClient,
    producer: Producer,
    logger: logging.Logger,
) -> dict[StepId, StepExecutor]:
    """An executor per step, templates compiled now (a validated spec always compiles)."""
    executors: dict[StepId, StepExecutor] = {}
    for step in steps:
        match step:
            case TransformStep():
                executors[step.id] = TransformExecutor(step)
            case FilterStep():
                executors[step.id] = FilterExecutor(step)
            case LogStep():
                executors[step.id] = LogExecutor(step, logger=logger)
            case HttpStep():
                executors[step.id] = HttpExecutor(step, client=http)
            case KafkaStep():
                executors[step.id] = KafkaExecutor(step, producer=producer, pipeline_id=pipeline_id)
    return executors
