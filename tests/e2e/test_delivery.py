"""Records in, results out, through the real processes: the API starts the trigger, its runner
process runs transform → http → kafka, and every record is accounted for by id.

* 1,000 keyed records over 4 partitions, `ordering: ordered`: exactly those 1,000 results, none
  twice, each key's results in its records' order; DELETE stops the runner processes.
* Poison records (the transform fails: 422) go to `<topic>.dlq` with Knative's error extensions,
  and every other record still gets its result.
* The http step's service answers 503 — a short outage, then the first two calls of every tenth
  record: the runner answers 503, the consumer retries with backoff, nothing is lost, order
  holds, and each flaky record's result shows it took three calls.
"""

import base64
import logging
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from e2e.api_process import ApiProcess
from e2e.enrichment import EnrichmentServer
from e2e.flow import Flows, keyed_records, stop_trigger
from e2e.topics import produce, sequences_by_key
from events_api.devstack import KafkaServer

pytestmark = pytest.mark.kafka

logger = logging.getLogger(__name__)

PARTITIONS = 4
KEYS = 8
FAST_RETRIES = {"retry": 10, "backoff_policy": "linear", "backoff_delay_seconds": 0.1}
"""Up to 10 retries, 0.1 s, 0.2 s, … apart (5.5 s at most): transient trouble is outlasted."""


def assert_in_order(values: list[dict[str, Any]]) -> None:
    """Each key's results come in its records' order, every `seq` once."""
    for key, seqs in sequences_by_key(values).items():
        assert seqs == list(range(len(seqs))), f"{key}: results in the order {seqs}"


async def test_a_thousand_keyed_records_give_exactly_their_results_in_order(
    kafka_server: KafkaServer,
    api: ApiProcess,
    flows: Flows,
    report_figure: Callable[[str, object], None],
) -> None:
    flow = await flows.start(
        partitions=PARTITIONS, output_partitions=3, delivery={"ordering": "ordered"}
    )
    assert flow.started["pipeline_version"] == 1
    assert flow.started["dead_letter"] == f"topic {flow.source}.dlq"
    assert flow.status["pipeline_version"] == 1
    assert flow.status["url"].startswith("http://127.0.0.1:")
    assert len(api.runner_pids()) == 1

    produced = await produce(
        kafka_server.bootstrap_servers, flow.source, keyed_records(1000, keys=KEYS)
    )
    assert {record.partition for record in produced} == set(range(PARTITIONS))

    tally = await flow.outputs.wait_for_ids((r.id for r in produced), describe=api.describe)
    report_figure("records", len(produced))
    report_figure("duplicates", tally.duplicates)
    logger.info("1,000 ordered records: %s", tally.summary())
    assert not tally.unexpected, tally.summary()
    # No restart, no rebalance, no timeout: nothing may be delivered twice.
    assert tally.duplicates == 0, tally.summary()
    results = flow.outputs.values()
    assert_in_order(results)
    by_id = {record.id: record for record in produced}
    for result in results:
        record = by_id[result["id"]]
        assert record.key is not None
        assert result["key"] == record.key.decode()
        assert result["event"] == f"partition:{record.partition}/offset:{record.offset}"
        assert result["calls"] == 1, result

    await stop_trigger(api, flow.pipeline_id)


async def test_poison_records_are_dead_lettered_and_the_rest_continue(
    kafka_server: KafkaServer,
    api: ApiProcess,
    enrichment: EnrichmentServer,
    flows: Flows,
    report_figure: Callable[[str, object], None],
) -> None:
    flow = await flows.start(
        partitions=PARTITIONS,
        output_partitions=1,
        dead_letters=True,
        delivery={"ordering": "unordered", **FAST_RETRIES},
    )
    outputs, letters = flow.outputs, flow.letters

    poison = frozenset({0, 57, 58, 123, 199})
    produced = await produce(
        kafka_server.bootstrap_servers, flow.source, keyed_records(200, keys=KEYS, poison=poison)
    )
    bad = {record.id: record for index, record in enumerate(produced) if index in poison}
    good = [record.id for index, record in enumerate(produced) if index not in poison]

    tally = await outputs.wait_for_ids(good, describe=api.describe)
    dead = await letters.wait_for_ids(bad, describe=api.describe)
    report_figure("records", len(produced))
    report_figure("dead_letters", sum(dead.counts.values()))
    report_figure("duplicates", tally.duplicates)
    assert not tally.unexpected, f"a poison record got a result: {tally.summary()}"
    assert not dead.unexpected, f"a good record was dead-lettered: {dead.summary()}"
    assert dead.duplicates == 0, dead.summary()
    # A permanent failure is not retried: the service was never called for a poison record.
    assert not set(bad) & set(enrichment.calls), enrichment.calls

    for letter in letters.records:
        record = bad[msgspec.json.decode(letter.value)["id"]]
        headers = {name: value.decode() for name, value in letter.headers}
        assert letter.key == record.key
        assert letter.value == msgspec.json.encode(record.value)
        assert headers["ce_id"] == f"partition:{record.partition}/offset:{record.offset}"
        assert headers["ce_type"] == "dev.knative.kafka.event"
        assert headers["ce_knativeerrorcode"] == "422"
        assert headers["ce_knativeerrordest"] == flow.status["url"]
        error = msgspec.json.decode(base64.b64decode(headers["ce_knativeerrordata"]))
        assert error["error"] == "step_failed", error

    await stop_trigger(api, flow.pipeline_id)


async def test_a_flaky_service_is_retried_and_nothing_is_lost(
    kafka_server: KafkaServer,
    api: ApiProcess,
    enrichment: EnrichmentServer,
    flows: Flows,
    report_figure: Callable[[str, object], None],
) -> None:
    flow = await flows.start(
        partitions=PARTITIONS,
        output_partitions=2,
        dead_letters=True,
        delivery={"ordering": "ordered", **FAST_RETRIES},
    )
    outputs, letters = flow.outputs, flow.letters

    records = keyed_records(300, keys=KEYS)
    flaky = {value["id"] for index, (_, value) in enumerate(records) if index % 10 == 3}
    enrichment.outage_calls = 12
    enrichment.fail_first = dict.fromkeys(flaky, 2)
    produced = await produce(kafka_server.bootstrap_servers, flow.source, records)

    tally = await outputs.wait_for_ids((r.id for r in produced), describe=api.describe)
    report_figure("records", len(produced))
    report_figure("answered_503", enrichment.unavailable_answers)
    report_figure("duplicates", tally.duplicates)
    assert enrichment.outage_calls == 0
    assert enrichment.unavailable_answers == 12 + 2 * len(flaky)
    assert not tally.unexpected, tally.summary()
    # A 503 from the service fails the run before its kafka step: a retry is no duplicate.
    assert tally.duplicates == 0, tally.summary()
    results = outputs.values()
    assert_in_order(results)
    for result in results:
        if result["id"] in flaky:
            assert result["calls"] >= 3, result
    assert letters.records == [], "a record was dead-lettered"

    await stop_trigger(api, flow.pipeline_id)


async def test_unordered_bursts_wait_for_the_runner_instead_of_being_refused(
    kafka_server: KafkaServer,
    api: ApiProcess,
    flows: Flows,
    report_figure: Callable[[str, object], None],
) -> None:
    """`unordered` puts up to 50 records per partition in flight, more than the runner admits
    (`container_concurrency`, 10): the excess waits, as behind Knative's queue-proxy, rather
    than being answered 429 — which, with `retry: 0`, would dead-letter healthy records."""
    flow = await flows.start(
        partitions=PARTITIONS,
        output_partitions=1,
        dead_letters=True,
        delivery={"ordering": "unordered", "retry": 0},
    )
    outputs, letters = flow.outputs, flow.letters

    produced = await produce(
        kafka_server.bootstrap_servers, flow.source, keyed_records(400, keys=KEYS)
    )
    tally = await outputs.wait_for_ids(
        (r.id for r in produced),
        describe=lambda: f"{len(letters.records)} dead letters\n{api.describe()}",
    )
    report_figure("records", len(produced))
    report_figure("dead_letters", len(letters.records))
    assert not tally.unexpected, tally.summary()
    assert letters.records == [], "a healthy record was dead-lettered"

    await stop_trigger(api, flow.pipeline_id)
