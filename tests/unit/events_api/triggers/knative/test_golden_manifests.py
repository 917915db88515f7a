"""Golden files: the three objects of a typical pipeline, byte for byte.

A change to any builder shows up here as a readable JSON diff. When the change is intended,
regenerate the files and review the diff before committing:

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/events_api/triggers/knative/test_golden_manifests.py

The test then rewrites `golden/*.json` and fails, so a regeneration is never silently green.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from events_api.triggers.knative.manifests import (
    ServiceOwner,
    build_kafka_sink,
    build_kafka_source,
    build_service,
)
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import PipelineId, PipelineVersion, TenantId
from pipeline_models.validation import validate_pipeline_spec

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

SPEC = {
    "name": "orders to warehouse",
    "options": {
        "event": "orders",
        "scaling": {"min_scale": 0, "max_scale": 20, "target_concurrency": 8},
        "delivery": {
            "retry": 5,
            "backoff_policy": "exponential",
            "backoff_delay_seconds": 0.5,
            "timeout_seconds": 60,
            "dead_letter": {"topic": "orders.dlq"},
        },
        "timeouts": {"request_timeout_seconds": 120},
        "resources": {"cpu": "250m", "memory": "256Mi"},
    },
    "steps": [
        {"id": "big", "type": "filter", "condition": "${{ event.data.total > `100` }}"},
        {
            "id": "notify",
            "type": "http",
            "needs": ["big"],
            "method": "POST",
            "url": "https://warehouse.example.com/orders",
            "body": "${{ event.data }}",
        },
    ],
}
SETTINGS = KnativeSettings(
    namespace="pipeline-events-triggers",
    runner_image="registry.example.com/pipeline-events-runner:1.4.2",
    kafka_bootstrap_servers=("kafka-0.kafka:9093", "kafka-1.kafka:9093"),
    kafka_tls_secret="kafka-tls",
    kafka_sasl_secret="kafka-sasl",
    kafka_sink_auth_secret="kafka-sink-auth",
)
TENANT = TenantId("alice@example.com")
STARTED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
OWNER_UID = "2b0c6a0e-9d8f-4f43-8d1e-3c0a7c5e9f10"


def typical_objects() -> dict[str, dict[str, Any]]:
    version = PipelineVersion(
        pipeline_id=PipelineId("pipeline-k3v9x0q2m1ab"),
        version=3,
        spec=validate_pipeline_spec(msgspec.json.encode(SPEC)),
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )
    service = build_service(version, tenant=TENANT, settings=SETTINGS, started_at=STARTED_AT)
    owner = ServiceOwner(name=service["metadata"]["name"], uid=OWNER_UID)
    sink = build_kafka_sink(version, tenant=TENANT, settings=SETTINGS, owner=owner)
    assert sink is not None
    return {
        "service": service,
        "kafka_source": build_kafka_source(version, tenant=TENANT, settings=SETTINGS, owner=owner),
        "kafka_sink": sink,
    }


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", ["service", "kafka_source", "kafka_sink"])
def test_golden(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    text = render(typical_objects()[name])
    if UPDATE:
        path.write_text(text)
        pytest.fail(f"rewrote {path.name}: review the diff, then run again without UPDATE_GOLDEN")
    assert path.exists(), f"no {path.name}: generate it with UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{path.name} changed: see this file's docstring"
