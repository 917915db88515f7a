"""A pipeline's whole life on a real cluster: Knative, the KafkaSource, Kafka, the deployed API.

create a pipeline → start → ready → produce → the pipeline's records appear on its output topic
→ restart with a new version while records keep arriving → every record processed (nothing
skipped), the new version's output after its rollout → stop → the Service, source and sink gone.
"""

import secrets
from typing import Any

import httpx

from kind.cluster import Cluster, eventually
from pipeline_models import PipelineId, label_value

_READY_TIMEOUT = 300.0
_OUTPUT_TIMEOUT = 240.0


def pipeline_spec(*, in_topic: str, out_topic: str, version: int) -> dict[str, Any]:
    """Forward each record's `n` to `out_topic`, stamped with `version`."""
    return {
        "name": "kind-e2e",
        "options": {"event": in_topic, "delivery": {"initial_offset": "earliest"}},
        "steps": [
            {
                "id": "forward",
                "type": "kafka",
                "topic": out_topic,
                "value": {"n": "${{ event.data.n }}", "version": version},
            }
        ],
    }


def wait_ready(api: httpx.Client, pipeline_id: str, *, version: int) -> dict[str, Any]:
    """Long-poll the trigger's status until `version` is ready."""

    def ready() -> dict[str, Any] | None:
        answer = api.get(f"/api/v1/events/{pipeline_id}", params={"wait": 60})
        assert answer.status_code == 200, answer.text
        status: dict[str, Any] = answer.json()
        return status if status["ready"] and status["pipeline_version"] == version else None

    return eventually(ready, timeout=_READY_TIMEOUT, what=f"version {version} ready")


def outputs(cluster: Cluster, topic: str, expected: set[int]) -> list[dict[str, Any]]:
    """The output records, once every `n` in `expected` is among them."""

    def complete() -> list[dict[str, Any]] | None:
        records = cluster.consume_all(topic)
        return records if expected <= {record["n"] for record in records} else None

    return eventually(complete, timeout=_OUTPUT_TIMEOUT, what=f"outputs for {sorted(expected)}")


def test_a_pipeline_lives_and_dies_on_knative(cluster: Cluster, api: httpx.Client) -> None:
    suffix = secrets.token_hex(3)
    in_topic, out_topic = f"kind-in-{suffix}", f"kind-out-{suffix}"
    cluster.create_topic(in_topic)
    cluster.create_topic(out_topic)

    created = api.post(
        "/api/v1/pipelines/", json=pipeline_spec(in_topic=in_topic, out_topic=out_topic, version=1)
    )
    assert created.status_code == 201, created.text
    pipeline_id = created.json()["id"]
    label = label_value(PipelineId(pipeline_id))
    try:
        started = api.post(f"/api/v1/events/{pipeline_id}")
        assert started.status_code == 200, started.text
        assert started.json()["message"] == "Event started successfully"
        wait_ready(api, pipeline_id, version=1)

        cluster.produce(in_topic, [{"n": n} for n in range(1, 6)])
        first = outputs(cluster, out_topic, set(range(1, 6)))
        assert {record["version"] for record in first} == {1}

        # A new version, started while records keep arriving: some before the restart, some
        # during the rollout. The consumer group keeps its offsets, so none may be skipped.
        updated = api.put(
            f"/api/v1/pipelines/{pipeline_id}",
            json=pipeline_spec(in_topic=in_topic, out_topic=out_topic, version=2),
        )
        assert updated.status_code == 200, updated.text
        cluster.produce(in_topic, [{"n": n} for n in range(6, 11)])
        restarted = api.post(f"/api/v1/events/{pipeline_id}", params={"pipeline_version": 2})
        assert restarted.status_code == 200, restarted.text
        cluster.produce(in_topic, [{"n": n} for n in range(11, 16)])
        wait_ready(api, pipeline_id, version=2)
        cluster.produce(in_topic, [{"n": n} for n in range(16, 21)])

        records = outputs(cluster, out_topic, set(range(1, 21)))
        assert {record["n"] for record in records} == set(range(1, 21)), "records were skipped"
        after_rollout = {record["version"] for record in records if record["n"] >= 16}
        assert after_rollout == {2}, "the new version did not take over"

        stopped = api.delete(f"/api/v1/events/{pipeline_id}")
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["message"] == "Event deleted successfully"
        eventually(
            lambda: True if not cluster.trigger_objects(label) else None,
            timeout=_READY_TIMEOUT,
            what=f"the trigger objects of {pipeline_id} deleted",
        )
        assert api.get(f"/api/v1/events/{pipeline_id}").status_code == 404
    finally:
        api.delete(f"/api/v1/events/{pipeline_id}")
        api.delete(f"/api/v1/pipelines/{pipeline_id}", params={"force": "true"})


def test_the_api_is_ready_behind_its_service(api: httpx.Client) -> None:
    assert api.get("/readyz").status_code == 200
    assert api.get("/api/v1/pipelines").status_code == 200
