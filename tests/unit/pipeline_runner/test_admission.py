"""Admission: bounded concurrency, and the pipeline deadline enforced by one task for all events."""

import asyncio

import pytest

from pipeline_runner.admission import Admission
from pipeline_runner.errors import Overloaded, ShuttingDown


async def _run_until_expired(admission: Admission, *, deadline_in: float) -> str:
    """An event that would run forever; how it ended."""
    loop = asyncio.get_running_loop()
    ticket = admission.enter(deadline_at=loop.time() + deadline_in)
    try:
        with ticket:
            await asyncio.Event().wait()
    except TimeoutError:
        return "cut" if ticket.cut else "deadline"
    return "finished"


async def test_each_event_ends_at_its_own_deadline() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    # The first ticket leaves early; the second must still be expired at its (later) deadline.
    with admission.enter(deadline_at=started + 0.05):
        pass
    ended = await _run_until_expired(admission, deadline_in=0.2)
    assert ended == "deadline"
    assert loop.time() - started >= 0.2
    assert admission.in_flight == 0
    await admission.close()


async def test_events_that_finish_in_time_are_untouched() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    loop = asyncio.get_running_loop()
    with admission.enter(deadline_at=loop.time() + 0.05) as ticket:
        await asyncio.sleep(0)
    await asyncio.sleep(0.1)
    assert not ticket.timed_out
    await admission.close()


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    event = asyncio.create_task(_run_until_expired(admission, deadline_in=60))
    await asyncio.sleep(0)
    event.cancel()
    with pytest.raises(asyncio.CancelledError):
        await event
    await admission.close()


async def test_the_drain_cuts_what_outlasts_its_grace() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    event = asyncio.create_task(_run_until_expired(admission, deadline_in=60))
    await asyncio.sleep(0)
    await admission.drain(grace_seconds=0.05)
    assert await event == "cut"
    with pytest.raises(ShuttingDown):
        admission.enter(deadline_at=0)
    await admission.close()


async def test_the_limit_refuses_one_more() -> None:
    admission = Admission(limit=1, deadline_seconds=0.05)
    with admission.enter(deadline_at=1e9), pytest.raises(Overloaded):
        admission.enter(deadline_at=1e9)
    await admission.close()


async def test_a_ticket_expires_the_task_it_is_given() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    loop = asyncio.get_running_loop()

    async def event() -> str:
        ticket = admission.enter(deadline_at=loop.time() + 0.05, task=asyncio.current_task(loop))
        try:
            with ticket:
                await asyncio.Event().wait()
        except TimeoutError:
            return "deadline"
        return "finished"

    assert await event() == "deadline"
    await admission.close()


async def test_a_drain_with_nothing_in_flight_ends_at_once() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    async with asyncio.timeout(1):
        await admission.drain(grace_seconds=60)
    assert admission.draining
    await admission.close()


async def test_the_drain_waits_for_events_that_finish_within_its_grace() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    release = asyncio.Event()

    async def event() -> str:
        with admission.enter(deadline_at=1e9):
            await release.wait()
        return "finished"

    running = [asyncio.create_task(event()) for _ in range(3)]
    await asyncio.sleep(0)
    drain = asyncio.create_task(admission.drain(grace_seconds=60))
    await asyncio.sleep(0.01)
    assert not drain.done()
    release.set()
    async with asyncio.timeout(1):
        await drain
    assert [await task for task in running] == ["finished"] * 3
    assert admission.in_flight == 0
    await admission.close()


def _deadline_tasks() -> list[asyncio.Task[object]]:
    return [task for task in asyncio.all_tasks() if task.get_name() == "event deadlines"]


async def test_one_deadline_task_serves_events_that_find_the_pod_idle() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    loop = asyncio.get_running_loop()
    seen: set[asyncio.Task[object]] = set()
    for _ in range(5):
        with admission.enter(deadline_at=loop.time() + 0.05):
            pass
        await asyncio.sleep(0)  # the pod is idle: the deadline task runs and finds no event
        seen.update(_deadline_tasks())
    assert len(seen) == 1
    # An event entering while that task sleeps out an idle stretch still ends at its deadline.
    started = loop.time()
    assert await _run_until_expired(admission, deadline_in=0.05) == "deadline"
    assert 0.05 <= loop.time() - started < 1
    await admission.close()
    assert not _deadline_tasks()


async def test_the_deadline_task_ends_after_a_whole_idle_stretch() -> None:
    admission = Admission(limit=10, deadline_seconds=0.05)
    loop = asyncio.get_running_loop()
    with admission.enter(deadline_at=loop.time() + 0.05):
        pass
    await asyncio.sleep(0)
    [task] = _deadline_tasks()
    async with asyncio.timeout(1):
        await task  # two idle sleeps of 0.05 s, then it ends by itself
    with admission.enter(deadline_at=loop.time() + 0.05):
        pass
    await asyncio.sleep(0)
    assert len(_deadline_tasks()) == 1  # the next event started a new one
    await admission.close()


async def test_an_event_due_before_the_idle_wake_up_still_ends_at_its_deadline() -> None:
    # The deadline task sleeps `deadline_seconds` when idle; an event due sooner restarts it.
    admission = Admission(limit=10, deadline_seconds=5)
    loop = asyncio.get_running_loop()
    with admission.enter(deadline_at=loop.time() + 5):
        pass
    await asyncio.sleep(0.01)  # the deadline task is asleep until 5 s from now
    started = loop.time()
    assert await _run_until_expired(admission, deadline_in=0.05) == "deadline"
    assert 0.05 <= loop.time() - started < 1
    await admission.close()
    assert not [task for task in _deadline_tasks() if not task.done()]
