"""`--wait` long-polls with the time left (capped), pauses after early answers, and ends ready
or with the last status once time is up — on a fake clock, never sleeping."""

from dataclasses import dataclass, field
from typing import Any

import pytest

from events_api.client.errors import NotFound
from events_api.client.waiting import WaitPolicy, wait_until_ready


@dataclass
class FakeClock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class ScriptedStatuses:
    """Answers `statuses` in turn; a not-ready answer takes its whole `wait` when `long_polls`."""

    clock: FakeClock
    statuses: list[dict[str, Any]]
    long_polls: bool = True
    waits: list[int] = field(default_factory=list)

    async def event_status(self, pipeline_id: str, *, wait_seconds: int = 0) -> dict[str, Any]:
        assert pipeline_id == "p"
        self.waits.append(wait_seconds)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if self.long_polls and not status.get("ready"):
            self.clock.now += wait_seconds
        return status


PENDING = {"ready": False, "source_ready": False, "reason": "Pending"}
READY = {"ready": True, "source_ready": True}
RUNNER_ONLY = {"ready": True, "source_ready": False, "reason": "SourceNotReady"}


async def _wait(source: ScriptedStatuses, clock: FakeClock, policy: WaitPolicy) -> Any:
    seen: list[dict[str, Any]] = []
    outcome = await wait_until_ready(
        source, "p", policy=policy, on_status=seen.append, clock=clock, sleep=clock.sleep
    )
    return outcome, seen


async def test_it_polls_until_ready_with_the_time_left_capped() -> None:
    clock = FakeClock()
    source = ScriptedStatuses(clock, [PENDING, PENDING, READY])
    outcome, seen = await _wait(source, clock, WaitPolicy(timeout_seconds=70, poll_cap_seconds=30))
    assert outcome.ready
    assert outcome.status == READY
    # The first look answers at once; then long-polls with the time left, at most 30 s.
    assert source.waits == [0, 30, 30]
    assert seen == [PENDING, PENDING, READY]
    assert outcome.waited_seconds == 30


async def test_time_up_ends_with_the_last_status() -> None:
    clock = FakeClock()
    source = ScriptedStatuses(clock, [PENDING])
    outcome, _ = await _wait(source, clock, WaitPolicy(timeout_seconds=45, poll_cap_seconds=30))
    assert not outcome.ready
    assert outcome.status == PENDING
    assert source.waits == [0, 30, 15]


async def test_a_server_that_answers_early_is_not_hammered() -> None:
    clock = FakeClock()
    source = ScriptedStatuses(clock, [PENDING], long_polls=False)
    outcome, _ = await _wait(source, clock, WaitPolicy(timeout_seconds=3, min_interval_seconds=1))
    assert not outcome.ready
    # At most a poll a second (each asking for the time left), then a last look at the deadline.
    assert source.waits == [0, 3, 2, 1, 0]


async def test_a_zero_timeout_still_looks_once() -> None:
    clock = FakeClock()
    source = ScriptedStatuses(clock, [READY])
    outcome, _ = await _wait(source, clock, WaitPolicy(timeout_seconds=0))
    assert outcome.ready
    assert source.waits == [0]


async def test_a_failing_poll_ends_the_wait_with_its_error() -> None:
    class Stopped:
        async def event_status(self, pipeline_id: str, *, wait_seconds: int = 0) -> Any:
            raise NotFound("no trigger", status=404, code="trigger_not_found", body=None)

    clock = FakeClock()
    with pytest.raises(NotFound):
        await wait_until_ready(
            Stopped(), "p", policy=WaitPolicy(timeout_seconds=5), clock=clock, sleep=clock.sleep
        )


async def test_a_ready_runner_whose_source_is_not_consuming_yet_is_waited_for() -> None:
    # Records produced before the source holds its partitions would be skipped (offset latest).
    clock = FakeClock()
    source = ScriptedStatuses(clock, [RUNNER_ONLY, RUNNER_ONLY, READY], long_polls=False)
    outcome, seen = await _wait(source, clock, WaitPolicy(timeout_seconds=60))
    assert outcome.ready
    assert seen == [RUNNER_ONLY, RUNNER_ONLY, READY]
