"""The API process killed (SIGKILL) mid-stream and started again with the same environment: the
trigger is resumed from its stored intent, the runners the dead API left are killed, and every
record gets its result — at least once. Duplicates are expected (records in flight or finished
but not yet committed when the API died are delivered again); they are counted and reported
(terminal summary section "end-to-end delivery", the JUnit XML, and an INFO log line).
"""

import itertools
import logging
from collections.abc import Callable

import pytest

from e2e.api_process import ApiProcess, alive
from e2e.enrichment import EnrichmentServer
from e2e.flow import Flows, keyed_records, stop_trigger, wait_until_serving
from e2e.topics import produce, sequences_by_key
from e2e.waiting import bounded
from events_api.devstack import KafkaServer

pytestmark = pytest.mark.kafka

logger = logging.getLogger(__name__)

RECORDS = 1000
ANSWERED_BEFORE_THE_KILL = 300
"""The enrichment server holds every call after this many: the kill lands mid-stream."""


async def test_an_api_killed_mid_stream_resumes_and_loses_nothing(
    kafka_server: KafkaServer,
    api: ApiProcess,
    enrichment: EnrichmentServer,
    flows: Flows,
    report_figure: Callable[[str, object], None],
) -> None:
    flow = await flows.start(partitions=4, output_partitions=3, delivery={"ordering": "ordered"})
    outputs = flow.outputs
    first_runners = api.runner_pids()
    assert len(first_runners) == 1

    enrichment.hold_after = ANSWERED_BEFORE_THE_KILL
    produced = await produce(
        kafka_server.bootstrap_servers, flow.source, keyed_records(RECORDS, keys=8)
    )
    expected = [record.id for record in produced]
    async with bounded("the pipeline is mid-stream", describe=api.describe):
        await enrichment.holding.wait()
    before_kill = outputs.tally(expected)
    assert len(before_kill.counts) < RECORDS, before_kill.summary()

    await api.kill()
    # The dead API's runner finishes what it holds (its results are duplicates to be), but
    # nobody commits them.
    enrichment.release()
    assert api.runner_pids() == first_runners, "the runner outlives a SIGKILLed API"

    await api.restart()
    status = await wait_until_serving(api, flow.pipeline_id)
    assert status["pipeline_version"] == 1
    assert not any(alive(pid) for pid in first_runners), "the orphaned runner was not killed"
    assert api.runner_pids().isdisjoint(first_runners)

    tally = await outputs.wait_for_ids(expected, describe=api.describe)
    redelivered = sum(count - 1 for count in enrichment.calls.values() if count > 1)
    report_figure("records", RECORDS)
    report_figure("results_before_kill", sum(before_kill.counts.values()))
    report_figure("duplicates", tally.duplicates)
    report_figure("duplicated_ids", len(tally.duplicated_ids))
    report_figure("service_calls_repeated", redelivered)
    logger.info(
        "API killed after %d results and resumed: %s; the service saw %d repeated calls",
        sum(before_kill.counts.values()),
        tally.summary(),
        redelivered,
    )
    assert not tally.unexpected, tally.summary()
    # Per key, results restart at most once: after the last one the old API committed.
    for key, seqs in sequences_by_key(outputs.values()).items():
        assert sorted(set(seqs)) == list(range(len(set(seqs)))), f"{key}: {seqs}"
        assert _at_most_one_step_back(seqs), f"{key}: results in the order {seqs}"

    await stop_trigger(api, flow.pipeline_id)


def _at_most_one_step_back(seqs: list[int]) -> bool:
    """Whether the sequence is increasing except where redelivery restarts it once."""
    backs = sum(1 for before, after in itertools.pairwise(seqs) if after <= before)
    return backs <= 1


async def test_records_produced_while_a_fresh_triggers_api_is_down_are_processed(
    kafka_server: KafkaServer,
    api: ApiProcess,
    flows: Flows,
) -> None:
    """Killed before the trigger's first record (its group never committed), with the default
    `initial_offset: latest`: what is produced while the API is down is still processed."""
    flow = await flows.start(partitions=4, output_partitions=1)

    await api.kill()
    produced = await produce(kafka_server.bootstrap_servers, flow.source, keyed_records(40, keys=8))
    await api.restart()
    await wait_until_serving(api, flow.pipeline_id)

    tally = await flow.outputs.wait_for_ids((r.id for r in produced), describe=api.describe)
    assert not tally.unexpected, tally.summary()
    await stop_trigger(api, flow.pipeline_id)


async def test_a_sigtermed_api_stops_its_runners_and_resumes_them_on_restart(
    kafka_server: KafkaServer,
    api: ApiProcess,
    flows: Flows,
) -> None:
    """An orderly stop (SIGTERM, as `kubectl delete pod` or Ctrl-C): the API drains, commits and
    stops its runners before it exits, keeps the trigger's intent, and resumes it on restart."""
    flow = await flows.start(partitions=2, output_partitions=1)
    outputs = flow.outputs
    first = await produce(kafka_server.bootstrap_servers, flow.source, keyed_records(50, keys=4))
    await outputs.wait_for_ids((r.id for r in first), describe=api.describe)
    runners = api.runner_pids()

    assert await api.stop(), f"the API did not stop on SIGTERM\n{api.describe()}"
    assert not any(alive(pid) for pid in runners), f"runners outlived the API: {runners}"
    assert api.leftover_runners() == set()
    later = await produce(
        kafka_server.bootstrap_servers, flow.source, keyed_records(90, keys=4)[50:]
    )
    await api.restart()
    await wait_until_serving(api, flow.pipeline_id)

    tally = await outputs.wait_for_ids((r.id for r in first + later), describe=api.describe)
    assert not tally.unexpected, tally.summary()
    # Everything finished before the stop was committed by it: nothing comes twice.
    assert tally.duplicates == 0, tally.summary()
    await stop_trigger(api, flow.pipeline_id)
