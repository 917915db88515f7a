"""The pipeline the end-to-end tests run, the records they feed it, and the REST calls that
drive a trigger: create, start, wait until ready, stop — each checked, each bounded. A test
begins with :meth:`Flows.start`: fresh topics, read from their beginning, and the pipeline
between them serving.

The pipeline: `transform` (shape the record; `length(word)` fails permanently when `word` is not a
string, so such a record is poison) → `http` (POST the shape to the enrichment server) → `kafka`
(the result, keyed like the record, to the output topic, carrying how often the enrichment server
saw the record).
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from e2e.api_process import ApiProcess
from e2e.enrichment import EnrichmentServer
from e2e.topics import TopicReader
from e2e.waiting import BOUND_SECONDS, bounded
from support.kafka_topics import create_topics, topic_name

STATUS_WAIT_SECONDS = 30


def enrich_pipeline(
    *,
    source: str,
    output: str,
    enrichment_url: str,
    delivery: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of `POST /api/v1/pipelines` for the tests' pipeline."""
    return {
        "name": "e2e-enrich",
        "options": {"event": source, "delivery": delivery or {}},
        "steps": [
            {
                "type": "transform",
                "id": "shape",
                "output": {
                    "id": "${{ event.data.id }}",
                    "key": "${{ event.key }}",
                    "seq": "${{ event.data.seq }}",
                    "letters": "${{ length(event.data.word) }}",
                },
            },
            {
                "type": "http",
                "id": "enrich",
                "method": "POST",
                "url": enrichment_url,
                "body": "${{ steps.shape }}",
                "timeout_seconds": 30,
            },
            {
                "type": "kafka",
                "id": "out",
                "topic": output,
                "key": "${{ steps.shape.key }}",
                "value": {
                    "id": "${{ steps.shape.id }}",
                    "key": "${{ steps.shape.key }}",
                    "seq": "${{ steps.shape.seq }}",
                    "calls": "${{ steps.enrich.body.calls }}",
                    "event": "${{ event.id }}",
                },
            },
        ],
    }


def keyed_records(
    count: int, *, keys: int, poison: frozenset[int] = frozenset()
) -> list[tuple[bytes, dict[str, Any]]]:
    """`count` records over `keys` keys, each `{"id", "seq", "word"}` with `seq` counting per
    key; the indexes in `poison` carry a number as `word` (the transform fails on them)."""
    records: list[tuple[bytes, dict[str, Any]]] = []
    per_key: dict[str, int] = {}
    for index in range(count):
        # Keys in an irregular pattern, so consecutive records rarely share a partition.
        key = f"key-{(index * 7 + index // 3) % keys}"
        seq = per_key.get(key, 0)
        per_key[key] = seq + 1
        word: object = 7 if index in poison else "w" * (1 + index % 5)
        records.append((key.encode(), {"id": f"r{index:05d}", "seq": seq, "word": word}))
    return records


async def create_pipeline(api: ApiProcess, body: dict[str, Any]) -> str:
    """POST the pipeline; its id."""
    response = await api.client.post("/api/v1/pipelines", json=body, headers=api.auth())
    assert response.status_code == 201, response.text
    pipeline_id: str = response.json()["id"]
    return pipeline_id


async def start_trigger(api: ApiProcess, pipeline_id: str) -> dict[str, Any]:
    """POST /events/{id}: 200 and the documented message; the answer."""
    response = await api.client.post(f"/api/v1/events/{pipeline_id}", headers=api.auth())
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    answer: dict[str, Any] = response.json()
    assert answer["message"] == "Event started successfully", answer
    return answer


async def wait_until_serving(api: ApiProcess, pipeline_id: str) -> dict[str, Any]:
    """GET /events/{id}?wait= until `ready` and `source_ready` (bounded); the status."""
    last: dict[str, Any] = {}

    def describe() -> str:
        return f"last status: {last}\n{api.describe()}"

    async with bounded(f"the trigger of {pipeline_id} is ready", describe=describe):
        while True:
            response = await api.client.get(
                f"/api/v1/events/{pipeline_id}",
                params={"wait": str(STATUS_WAIT_SECONDS)},
                headers=api.auth(),
                timeout=STATUS_WAIT_SECONDS + 10,
            )
            assert response.status_code == 200, f"{response.status_code} {response.text}"
            last = response.json()
            if last["ready"] and last["source_ready"]:
                return last
            # `?wait=` returns once ready; joining the consumer group announces nothing.
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or times out


async def stop_trigger(api: ApiProcess, pipeline_id: str) -> None:
    """DELETE /events/{id}: 200, the documented message, and no runner left running."""
    runners = api.runner_pids()
    assert runners, f"no runner process before the stop\n{api.describe()}"
    response = await api.client.delete(
        f"/api/v1/events/{pipeline_id}", headers=api.auth(), timeout=BOUND_SECONDS
    )
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    assert response.json()["message"] == "Event deleted successfully"
    # The DELETE answers once the runners exited (stopped by PID and reaped).
    assert api.leftover_runners() == set(), api.describe()
    missing = await api.client.get(f"/api/v1/events/{pipeline_id}", headers=api.auth())
    assert missing.status_code == 404, missing.text


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """The tests' pipeline between fresh topics, its trigger started and serving."""

    pipeline_id: str
    source: str
    """The topic the trigger reads: the test produces its records here."""
    outputs: TopicReader
    """The output topic, read from its beginning."""
    started: dict[str, Any]
    """The answer to starting the trigger."""
    status: dict[str, Any]
    """The first status that said `ready` and `source_ready`."""
    dead_letter_reader: TopicReader | None
    """`<source>.dlq`, read from its beginning, if it was asked for (see :attr:`letters`)."""

    @property
    def letters(self) -> TopicReader:
        """The dead-letter topic's reader (the flow must have been started with one)."""
        assert self.dead_letter_reader is not None, "the flow was started without dead letters"
        return self.dead_letter_reader


@dataclass(frozen=True, slots=True, kw_only=True)
class Flows:
    """Starts flows in one test's setting: its broker, API process, enrichment server and topic
    readers."""

    bootstrap_servers: str
    api: ApiProcess
    enrichment: EnrichmentServer
    read_topic: Callable[[str], TopicReader]

    async def start(
        self,
        *,
        partitions: int,
        output_partitions: int,
        dead_letters: bool = False,
        delivery: dict[str, Any] | None = None,
    ) -> Flow:
        """A source topic of `partitions` and an output topic of `output_partitions` (and
        `<source>.dlq` of one, with `dead_letters`), each read from its beginning; the tests'
        pipeline between them with these `delivery` options, created and started; once it
        serves."""
        source, output = topic_name("e2e"), topic_name("e2e")
        topics = {source: partitions, output: output_partitions}
        if dead_letters:
            topics[f"{source}.dlq"] = 1
        await create_topics(self.bootstrap_servers, topics)
        outputs = self.read_topic(output)
        letters = self.read_topic(f"{source}.dlq") if dead_letters else None
        body = enrich_pipeline(
            source=source, output=output, enrichment_url=self.enrichment.url, delivery=delivery
        )
        pipeline_id = await create_pipeline(self.api, body)
        started = await start_trigger(self.api, pipeline_id)
        status = await wait_until_serving(self.api, pipeline_id)
        return Flow(
            pipeline_id=pipeline_id,
            source=source,
            outputs=outputs,
            started=started,
            status=status,
            dead_letter_reader=letters,
        )
