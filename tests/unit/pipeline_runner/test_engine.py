"""The step scheduler: ordering, concurrency, failure isolation, filters, retries, deadlines."""

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline_models import PipelineId, StepGraph, StepId, build_step_graph, validate_pipeline_spec
from pipeline_runner.engine import Engine, RunReport, StepStatus, equal_jitter
from pipeline_runner.errors import (
    PipelineFailed,
    StepError,
    StepInputInvalid,
    StepTimedOut,
    UpstreamRejected,
    UpstreamUnavailable,
)
from pipeline_runner.steps import StepExecutor, build_executors
from pipeline_runner.steps.rendering import Scope

EVENT = {"id": "e-1", "source": "/s", "type": "t", "specversion": "1.0", "data": {"n": 4}}
Executor = Callable[[Scope], Any]


class Scripted:
    """An executor whose behaviour the test scripts: a list of results or errors, in order."""

    def __init__(self, *results: object, gate: asyncio.Event | None = None) -> None:
        self.results = list(results)
        self.calls = 0
        self.gate = gate
        self.started = asyncio.Event()

    async def __call__(self, scope: Scope) -> Any:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        result = self.results.pop(0) if self.results else {"ok": True}
        if isinstance(result, BaseException):
            raise result
        return result


def make_engine(
    steps: list[dict[str, Any]],
    *,
    fakes: dict[str, StepExecutor] | None = None,
    limit: int = 10,
    sleeps: list[float] | None = None,
) -> tuple[Engine, StepGraph]:
    spec = validate_pipeline_spec({"name": "p", "steps": steps})
    graph = build_step_graph(spec.steps)
    real = build_executors(
        spec.steps,
        pipeline_id=PipelineId("pipeline-abc123def456"),
        http=httpx.AsyncClient(),
        producer=NoProducer(),
        logger=logging.getLogger("test"),
    )
    executors: dict[StepId, StepExecutor] = {
        **real,
        **{StepId(k): v for k, v in (fakes or {}).items()},
    }

    async def record_sleep(delay: float) -> None:
        if sleeps is not None:
            sleeps.append(delay)

    engine = Engine(
        steps=spec.steps,
        graph=graph,
        executors=executors,
        limiter=asyncio.Semaphore(limit),
        sleep=record_sleep,
        jitter=lambda delay: delay,
    )
    return engine, graph


class NoProducer:
    async def send(self, topic: str, **_: Any) -> dict[str, Any]:
        raise AssertionError("no kafka step in these tests")


async def run(engine: Engine, *, deadline_in: float = 60.0) -> RunReport:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(10):  # a hang fails the test instead of stalling the suite
        return await engine.run(EVENT, deadline_at=loop.time() + deadline_in)


async def run_chain(engine: Engine, how: str) -> RunReport:
    """Run a pipeline of inline steps either way the engine offers: both must agree."""
    if how == "inline":
        assert engine.inline
        return engine.run_inline(EVENT)
    return await run(engine)


BOTH_WAYS = pytest.mark.parametrize("how", ["inline", "awaited"])


def transform(step_id: str, output: object = None, **extra: Any) -> dict[str, Any]:
    return {"type": "transform", "id": step_id, "output": output, **extra}


async def test_a_step_sees_the_outputs_of_the_steps_it_references() -> None:
    engine, _ = make_engine(
        [
            transform("double", {"n": "${{ event.data.n }}", "twice": "${{ [event.data.n] }}"}),
            transform("shape", {"from": "${{ steps.double.n }}", "id": "${{ event.id }}"}),
        ]
    )

    report = await run(engine)

    assert report.outputs[StepId("shape")] == {"from": 4, "id": "e-1"}
    assert report.status == {"double": StepStatus.SUCCEEDED, "shape": StepStatus.SUCCEEDED}


async def test_independent_steps_run_at_the_same_time() -> None:
    barrier = asyncio.Barrier(2)

    async def meet(scope: Scope) -> str:
        # Both steps must be inside at once to pass: a sequential engine would hang here.
        await barrier.wait()
        return "met"

    engine, _ = make_engine([transform("a"), transform("b")], fakes={"a": meet, "b": meet})

    report = await run(engine)

    assert report.outputs == {"a": "met", "b": "met"}


async def test_a_step_waits_for_what_it_needs() -> None:
    gate = asyncio.Event()
    first = Scripted({"v": 1}, gate=gate)
    second = Scripted({"v": 2})
    engine, _ = make_engine(
        [transform("a"), transform("b", needs=["a"])], fakes={"a": first, "b": second}
    )

    task = asyncio.create_task(run(engine))
    await first.started.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert second.calls == 0
    gate.set()
    report = await task

    assert second.calls == 1
    assert report.status[StepId("b")] is StepStatus.SUCCEEDED


async def test_a_failing_step_cancels_only_its_dependents() -> None:
    failed = asyncio.Event()

    async def fail(scope: Scope) -> None:
        failed.set()
        raise UpstreamRejected("no")

    async def independent(scope: Scope) -> str:
        # Still running when the other branch fails, and must be allowed to finish.
        await failed.wait()
        return "done"

    engine, _ = make_engine(
        [
            transform("a"),
            transform("b", needs=["a"]),
            transform("c", needs=["b"]),
            transform("other"),
        ],
        fakes={"a": fail, "other": independent},
    )

    report = await run(engine)

    assert report.status == {
        "a": StepStatus.FAILED,
        "b": StepStatus.CANCELLED,
        "c": StepStatus.CANCELLED,
        "other": StepStatus.SUCCEEDED,
    }
    assert report.outputs == {"other": "done"}
    with pytest.raises(PipelineFailed) as raised:
        report.raise_for_failures()
    assert not raised.value.retryable
    assert raised.value.failures[0].step_id == "a"


async def test_a_pipeline_with_a_retryable_failure_is_retryable() -> None:
    engine, _ = make_engine([transform("a")], fakes={"a": Scripted(UpstreamUnavailable("503"))})

    report = await run(engine)

    with pytest.raises(PipelineFailed) as raised:
        report.raise_for_failures()
    assert raised.value.retryable


async def test_one_permanent_failure_makes_the_event_permanent() -> None:
    engine, _ = make_engine(
        [transform("a"), transform("b")],
        fakes={"a": Scripted(UpstreamUnavailable("503")), "b": Scripted(UpstreamRejected("400"))},
    )

    report = await run(engine)

    with pytest.raises(PipelineFailed) as raised:
        report.raise_for_failures()
    assert not raised.value.retryable


@pytest.mark.parametrize(("n", "passed"), [(4, True), (1, False)])
async def test_a_filter_decides_whether_its_dependents_run(n: int, passed: bool) -> None:
    engine, _ = make_engine(
        [
            {"type": "filter", "id": "big", "condition": "${{ event.data.n > `2` }}"},
            transform("after", "ran", needs=["big"]),
            transform("later", "${{ steps.after }}"),
            transform("unrelated", "ran"),
        ]
    )
    EVENT["data"] = {"n": n}

    report = await run(engine)

    EVENT["data"] = {"n": 4}
    assert report.outputs[StepId("big")] == {"passed": passed}
    assert report.outputs[StepId("unrelated")] == "ran"
    expected = StepStatus.SUCCEEDED if passed else StepStatus.SKIPPED
    assert report.status[StepId("after")] is expected
    assert report.status[StepId("later")] is expected
    assert report.filtered is not passed
    report.raise_for_failures()


@BOTH_WAYS
@pytest.mark.parametrize(("n", "passed"), [(4, True), (1, False)])
async def test_a_chain_of_inline_steps_filters_like_any_graph(
    n: int, passed: bool, how: str
) -> None:
    # filter -> transform -> log: a chain whose steps all run inline (no awaits at all).
    engine, _ = make_engine(
        [
            {"type": "filter", "id": "big", "condition": "${{ event.data.n > `2` }}"},
            transform("after", "${{ event.data.n }}", needs=["big"]),
            {"type": "log", "id": "note", "message": "n=${{ steps.after }}"},
        ]
    )
    EVENT["data"] = {"n": n}

    report = await run_chain(engine, how)

    EVENT["data"] = {"n": 4}
    expected = StepStatus.SUCCEEDED if passed else StepStatus.SKIPPED
    assert report.status == {"big": StepStatus.SUCCEEDED, "after": expected, "note": expected}
    assert report.attempts == dict.fromkeys(["big", *(["after", "note"] if passed else [])], 1)
    assert report.outputs.get(StepId("note")) == ({"message": f"n={n}"} if passed else None)


@BOTH_WAYS
async def test_a_failing_inline_step_cancels_the_rest_of_its_chain(how: str) -> None:
    engine, _ = make_engine(
        [
            transform("a", "${{ length(event.data.n) }}"),
            transform("b", "${{ steps.a }}"),
            transform("c", "${{ steps.b }}"),
        ]
    )

    report = await run_chain(engine, how)

    [error] = report.failures
    assert isinstance(error, StepInputInvalid)
    assert error.step_id == "a"
    assert report.status == {
        "a": StepStatus.FAILED,
        "b": StepStatus.CANCELLED,
        "c": StepStatus.CANCELLED,
    }


async def test_a_retryable_failure_is_retried_with_growing_backoff() -> None:
    sleeps: list[float] = []
    flaky = Scripted(UpstreamUnavailable("503"), UpstreamUnavailable("503"), "third time")
    engine, _ = make_engine(
        [
            transform(
                "a",
                retry={
                    "max_attempts": 3,
                    "initial_backoff_seconds": 0.5,
                    "backoff_multiplier": 3,
                },
            )
        ],
        fakes={"a": flaky},
        sleeps=sleeps,
    )

    report = await run(engine)

    assert report.outputs[StepId("a")] == "third time"
    assert report.attempts[StepId("a")] == 3
    assert sleeps == [0.5, 1.5]


async def test_retries_stop_after_max_attempts() -> None:
    flaky = Scripted(*(UpstreamUnavailable(f"try {n}") for n in range(5)))
    engine, _ = make_engine([transform("a", retry={"max_attempts": 2})], fakes={"a": flaky})

    report = await run(engine)

    assert flaky.calls == 2
    assert [str(error) for error in report.failures] == ["try 1"]


async def test_a_permanent_failure_is_not_retried() -> None:
    broken = Scripted(UpstreamRejected("400"), "never")
    engine, _ = make_engine([transform("a", retry={"max_attempts": 5})], fakes={"a": broken})

    report = await run(engine)

    assert broken.calls == 1
    assert report.status[StepId("a")] is StepStatus.FAILED


async def test_no_retry_when_the_backoff_would_pass_the_deadline() -> None:
    sleeps: list[float] = []
    flaky = Scripted(UpstreamUnavailable("503"), "late")
    engine, _ = make_engine(
        [
            transform(
                "a",
                retry={"max_attempts": 3, "initial_backoff_seconds": 30, "max_backoff_seconds": 30},
            )
        ],
        fakes={"a": flaky},
        sleeps=sleeps,
    )

    report = await run(engine, deadline_in=5.0)

    assert flaky.calls == 1
    assert sleeps == []
    assert report.status[StepId("a")] is StepStatus.FAILED


async def test_an_attempt_that_times_out_fails_retryably() -> None:
    never = asyncio.Event()
    engine, _ = make_engine(
        [transform("a", timeout_seconds=0.01)], fakes={"a": Scripted(gate=never)}
    )

    report = await run(engine)

    [error] = report.failures
    assert isinstance(error, StepTimedOut)
    assert error.retryable
    assert error.step_id == "a"


async def test_an_expression_that_fails_is_a_permanent_step_failure() -> None:
    engine, _ = make_engine([transform("a", "${{ length(event.data.n) }}")])

    report = await run(engine)

    [error] = report.failures
    assert isinstance(error, StepInputInvalid)
    assert not error.retryable


async def test_the_semaphore_bounds_attempts_across_steps() -> None:
    gate = asyncio.Event()
    first = Scripted("a", gate=gate)
    second = Scripted("b")
    limiter_size = 1
    engine, _ = make_engine(
        [transform("a"), transform("b")], fakes={"a": first, "b": second}, limit=limiter_size
    )

    task = asyncio.create_task(run(engine))
    await first.started.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert second.calls == 0
    gate.set()
    report = await task

    assert report.outputs == {"a": "a", "b": "b"}


async def test_the_deadline_cancels_running_steps() -> None:
    cancelled = asyncio.Event()

    async def slow(scope: Scope) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    engine, _ = make_engine([transform("a")], fakes={"a": slow})
    loop = asyncio.get_running_loop()

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await engine.run(EVENT, deadline_at=loop.time() + 0.01)

    assert cancelled.is_set()


async def test_a_bug_in_an_executor_propagates() -> None:
    async def buggy(scope: Scope) -> None:
        raise KeyError("bug")

    engine, _ = make_engine([transform("a")], fakes={"a": buggy})

    with pytest.raises(ExceptionGroup):
        await run(engine)


@BOTH_WAYS
async def test_a_bug_in_an_inline_step_propagates_grouped(how: str) -> None:
    class Buggy:
        def run_inline(self, scope: Scope) -> None:
            raise KeyError("bug")

        async def __call__(self, scope: Scope) -> None:
            self.run_inline(scope)

    steps = [transform("a"), transform("b", "${{ steps.a }}")]
    engine, _ = make_engine(steps, fakes={"a": Buggy()})

    with pytest.raises(ExceptionGroup):
        await run_chain(engine, how)


@pytest.mark.parametrize(
    ("steps", "inline"),
    [
        ([transform("a"), transform("b", "${{ steps.a }}")], True),
        # Two branches: the awaited engine runs them concurrently (tasks), so not inline.
        (
            [transform("a"), transform("b", "${{ steps.a }}"), transform("c", "${{ steps.a }}")],
            False,
        ),
        # A step that waits (http) is never inline, even alone.
        ([{"type": "http", "id": "a", "url": "https://example.com/"}], False),
    ],
)
async def test_only_a_chain_of_inline_steps_runs_without_awaiting(
    steps: list[dict[str, Any]], inline: bool
) -> None:
    engine, _ = make_engine(steps)

    assert engine.inline is inline
    if not inline:
        with pytest.raises(RuntimeError, match=r"use Engine\.run"):
            engine.run_inline(EVENT)


def test_step_errors_know_their_marker() -> None:
    assert UpstreamUnavailable("x").retryable
    assert StepError("x").permanent


@given(st.floats(min_value=0, max_value=300))
def test_jitter_stays_between_half_and_the_whole_delay(delay: float) -> None:
    assert delay / 2 <= equal_jitter(delay) <= delay


@pytest.mark.parametrize(
    "steps",
    [
        # Two branches (tasks in a group) and a join; then a chain of inline steps.
        [
            transform("a", 1),
            transform("b", "${{ steps.a }}"),
            transform("c", "${{ steps.a }}"),
            transform("d", ["${{ steps.b }}", "${{ steps.c }}"]),
        ],
        [transform("a", 1), transform("b", "${{ steps.a }}")],
    ],
)
async def test_an_event_leaves_no_reference_cycles_behind(steps: list[dict[str, Any]]) -> None:
    # Reference counting must free each event's objects: cycles would wait for the garbage
    # collector, whose full collections stall every event in flight.
    engine, _ = make_engine(steps)
    loop = asyncio.get_running_loop()
    await engine.run(EVENT, deadline_at=loop.time() + 60)
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            report = await engine.run(EVENT, deadline_at=loop.time() + 60)
            report.raise_for_failures()
        assert gc.collect() == 0
    finally:
        gc.enable()
