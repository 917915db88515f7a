"""A runner that crashes is restarted, as the kubelet restarts a crashed container: deliveries
are held meanwhile and nothing is lost; repeated crashes back off."""

import asyncio
import os
import signal
from collections.abc import Callable

import pytest

from events_api.devstack import KafkaServer
from events_api.triggers.local.backend import LocalTriggerBackend
from integration.local_backend.conftest import (
    BOUND_SECONDS,
    Collector,
    forward_to,
    make_version,
    new_topic,
    produce,
)
from integration.local_backend.test_backend import (
    PIPELINE,
    TENANT,
    ready,
    seqs,
    serving,
    start_request,
)
from pipeline_models import TriggerStatus

pytestmark = pytest.mark.kafka


async def _status_until(
    backend: LocalTriggerBackend, condition: Callable[[TriggerStatus], bool]
) -> TriggerStatus:
    async with asyncio.timeout(BOUND_SECONDS):
        while True:
            status = backend.status(TENANT, PIPELINE)
            if status is not None and condition(status):
                return status
            await asyncio.sleep(0.02)


async def _crash(backend: LocalTriggerBackend) -> tuple[int, TriggerStatus]:
    """SIGKILL the serving runner; its pid and the status saying it exited."""
    (pid,) = backend.pids(PIPELINE)
    os.kill(pid, signal.SIGKILL)
    # The first restart waits at least half a second (half-jittered backoff from 1 s).
    exited = await _status_until(backend, lambda status: status.reason == "RunnerExited")
    return pid, exited


async def test_a_crashed_runner_is_restarted_and_no_record_is_lost(
    kafka_server: KafkaServer,
    backend: LocalTriggerBackend,
    collect: Callable[[str], Collector],
) -> None:
    source, output = await new_topic(kafka_server), await new_topic(kafka_server)
    outputs = collect(output)
    await serving(backend, make_version(forward_to(output), options={"event": source}))
    await produce(kafka_server, source, [{"seq": n} for n in range(5)])
    await outputs.wait_for(lambda records: len(records) >= 5)

    crashed, exited = await _crash(backend)
    assert not exited.ready
    assert "restart 1 in" in (exited.message or "")
    # Produced while no runner serves: held, then delivered by the restarted runner.
    await produce(kafka_server, source, [{"seq": n} for n in range(5, 15)])
    await ready(backend, 1)
    (restarted,) = backend.pids(PIPELINE)
    assert restarted != crashed
    # The record in flight at the crash may come twice (at least once): wait for every seq.
    await outputs.wait_for(lambda _: seqs(outputs) >= set(range(15)))
    assert seqs(outputs) == set(range(15))
    status = backend.status(TENANT, PIPELINE)
    assert status is not None
    assert status.reason is None, status

    # A second crash soon after is a crash loop: the count goes on (and the wait doubles).
    _, again = await _crash(backend)
    assert "restart 2 in" in (again.message or "")
    await ready(backend, 1)


async def test_a_stopped_trigger_does_not_restart_its_runner(
    kafka_server: KafkaServer, backend: LocalTriggerBackend
) -> None:
    source = await new_topic(kafka_server)
    await backend.start(start_request(make_version(forward_to(source), options={"event": source})))
    await ready(backend, 1)
    (pid,) = backend.pids(PIPELINE)

    assert await backend.stop(TENANT, PIPELINE)

    await asyncio.sleep(1.5)  # longer than the first restart's backoff could be
    assert backend.pids(PIPELINE) == []
    assert backend.status(TENANT, PIPELINE) is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
