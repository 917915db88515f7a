"""The local backend with real runner processes and the real broker: records in, outputs out."""

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from events_api.devstack import KafkaServer
from events_api.triggers.errors import BackendUnavailable, NoEventOption
from events_api.triggers.local.backend import LocalTriggerBackend
from events_api.triggers.local.opening import open_local_backend
from events_api.triggers.local.settings import LocalSettings
from events_api.triggers.protocol import StartOutcome, StartRequest
from integration.local_backend.conftest import (
    BOUND_SECONDS,
    Collector,
    forward_to,
    make_version,
    new_topic,
    produce,
)
from pipeline_models import PipelineId, PipelineVersion, RunnerSettings, TenantId

pytestmark = pytest.mark.kafka

TENANT = TenantId("tenant-a")
PIPELINE = PipelineId("pipeline-local0test01")


def start_request(version: PipelineVersion, *, reset: bool = False) -> StartRequest:
    return StartRequest(tenant=TENANT, version=version, started_at=datetime.now(UTC), reset=reset)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def ready(backend: LocalTriggerBackend, version: int) -> None:
    await backend.wait_until_ready(TENANT, PIPELINE, version=version, wait_seconds=BOUND_SECONDS)
    status = backend.status(TENANT, PIPELINE)
    assert status is not None
    assert status.ready, status


async def joined(backend: LocalTriggerBackend) -> None:
    async with asyncio.timeout(BOUND_SECONDS):
        while not (status := backend.status(TENANT, PIPELINE)) or not status.source_ready:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def serving(backend: LocalTriggerBackend, version: PipelineVersion) -> StartOutcome:
    """Start `version`; return once its runner is ready and its consumer holds partitions."""
    outcome = await backend.start(start_request(version))
    await ready(backend, version.version)
    await joined(backend)
    return outcome


def seqs(collector: Collector) -> set[int]:
    return {value["seq"] for value in collector.values()}


async def test_start_runs_records_through_a_runner_process_and_stop_ends_it(
    kafka_server: KafkaServer,
    backend: LocalTriggerBackend,
    collect: Callable[[str], Collector],
) -> None:
    source, output = await new_topic(kafka_server), await new_topic(kafka_server)
    outputs = collect(output)
    version = make_version(forward_to(output), options={"event": source})

    outcome = await serving(backend, version)
    status = backend.status(TENANT, PIPELINE)
    assert status is not None
    assert status.pipeline_version == 1
    assert status.url is not None
    assert status.url.startswith("http://127.0.0.1:")
    assert outcome.dead_letter == f"topic {source}.dlq"
    pids = backend.pids(PIPELINE)
    assert len(pids) == 1

    await produce(kafka_server, source, [{"seq": n} for n in range(20)], key=lambda n: b"k%d" % n)
    await outputs.wait_for(lambda records: len(records) >= 20)
    assert seqs(outputs) == set(range(20))
    first = outputs.values()[0]
    assert first["id"].startswith("partition:0/offset:")
    assert outputs.records[0].key == b"k0"

    assert await backend.stop(TENANT, PIPELINE)
    assert backend.status(TENANT, PIPELINE) is None
    assert not any(alive(pid) for pid in pids)
    assert not await backend.stop(TENANT, PIPELINE)


async def test_a_poison_record_goes_to_the_dead_letter_topic_and_the_rest_continue(
    kafka_server: KafkaServer,
    backend: LocalTriggerBackend,
    collect: Callable[[str], Collector],
) -> None:
    source, output = await new_topic(kafka_server), await new_topic(kafka_server)
    outputs, dead = collect(output), collect(source + ".dlq")
    # length() of a number fails: a permanent step failure, which the runner answers 422.
    steps = [
        {"type": "transform", "id": "size", "output": "${{ length(event.data.word) }}"},
        *forward_to(output),
    ]
    steps[1]["needs"] = ["size"]
    version = make_version(steps, options={"event": source})
    await serving(backend, version)

    words: list[object] = ["a", "bb", 7, "dddd", "eeeee"]
    await produce(kafka_server, source, [{"seq": n, "word": w} for n, w in enumerate(words)])

    await outputs.wait_for(lambda records: len(records) >= 4)
    (letter,) = await dead.wait_for(lambda records: len(records) >= 1)
    assert seqs(outputs) == {0, 1, 3, 4}
    headers = dict(letter.headers)
    assert headers["ce_knativeerrorcode"] == b"422"
    assert headers["ce_id"] == b"partition:0/offset:2"
    assert letter.value == b'{"seq":2,"word":7}'


async def test_a_new_version_takes_over_without_losing_records(
    kafka_server: KafkaServer,
    backend: LocalTriggerBackend,
    collect: Callable[[str], Collector],
) -> None:
    source, output = await new_topic(kafka_server), await new_topic(kafka_server)
    outputs = collect(output)
    first = make_version(forward_to(output, marker="v1"), options={"event": source})
    await serving(backend, first)
    old_pids = backend.pids(PIPELINE)

    await produce(kafka_server, source, [{"seq": n} for n in range(30)])
    second = make_version(forward_to(output, marker="v2"), options={"event": source}, version=2)
    await backend.start(start_request(second))
    # Produced while the new runner starts: delivered by one version or the other.
    await produce(kafka_server, source, [{"seq": n} for n in range(30, 60)])
    await ready(backend, 2)
    await produce(kafka_server, source, [{"seq": n} for n in range(60, 90)])

    await outputs.wait_for(lambda records: seqs(outputs) >= set(range(90)))
    last = [value for value in outputs.values() if value["seq"] >= 60]
    assert {value["by"] for value in last} == {"v2"}
    status = backend.status(TENANT, PIPELINE)
    assert status is not None
    assert status.pipeline_version == 2
    # The old runner was stopped once the new one served.
    async with asyncio.timeout(BOUND_SECONDS):
        while any(alive(pid) for pid in old_pids):  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.1)
    assert len(backend.pids(PIPELINE)) == 1


async def test_a_runner_that_cannot_start_says_why_in_the_status(
    kafka_server: KafkaServer, local_settings: LocalSettings
) -> None:
    source = await new_topic(kafka_server)
    # A runner whose settings it refuses (a deadline above the request timeout) exits at once.
    settings = LocalSettings(
        kafka_bootstrap_servers=local_settings.kafka_bootstrap_servers,
        data_dir=local_settings.data_dir,
        runner=msgspec_runner({"pipeline_deadline_seconds": 500}),
    )
    version = make_version(
        [{"type": "log", "id": "l", "message": "x"}],
        options={"event": source, "timeouts": {"request_timeout_seconds": 100}},
    )
    async with open_local_backend(settings) as backend:
        await backend.start(start_request(version))
        async with asyncio.timeout(BOUND_SECONDS):
            while (status := backend.status(TENANT, PIPELINE)) is None or status.reason in (  # noqa: ASYNC110
                None,
                "RevisionMissing",
            ):
                await asyncio.sleep(0.1)
        assert not status.ready
        assert status.reason == "RevisionFailed"
        assert status.message is not None
        assert "pipeline_deadline_seconds" in status.message
        assert backend.pids(PIPELINE) == []


def msgspec_runner(fields: dict[str, object]) -> RunnerSettings:
    return msgspec.convert(fields, RunnerSettings)


async def test_no_topic_and_no_kafka_are_errors_of_the_protocol(tmp_path: Path) -> None:
    unreachable = LocalSettings(
        kafka_bootstrap_servers=("127.0.0.1:1",),
        data_dir=str(tmp_path),
        kafka_request_timeout_seconds=3,
    )
    async with open_local_backend(unreachable) as backend:
        with pytest.raises(NoEventOption):
            await backend.start(start_request(make_version(forward_to("x"), options={})))
        with pytest.raises(BackendUnavailable, match=r"127\.0\.0\.1:1"):
            await backend.start(
                start_request(make_version(forward_to("x"), options={"event": "t"}))
            )
        assert backend.status(TENANT, PIPELINE) is None


async def test_reset_moves_the_offsets_back_to_the_initial_offset(
    kafka_server: KafkaServer,
    backend: LocalTriggerBackend,
    collect: Callable[[str], Collector],
) -> None:
    source, output = await new_topic(kafka_server), await new_topic(kafka_server)
    outputs = collect(output)
    options = {"event": source, "delivery": {"initial_offset": "earliest"}}
    version = make_version(forward_to(output), options=options)
    await produce(kafka_server, source, [{"seq": n} for n in range(5)])
    await backend.start(start_request(version))
    await outputs.wait_for(lambda records: len(records) >= 5)
    # A plain restart resumes from the committed offsets; a reset starts at `earliest` again.
    again = make_version(forward_to(output), options=options, version=2)
    outcome = await backend.start(start_request(again, reset=True))
    assert outcome.offsets_reset
    await outputs.wait_for(lambda records: len(records) >= 10)
    assert sorted(value["seq"] for value in outputs.values()) == sorted([*range(5), *range(5)])
