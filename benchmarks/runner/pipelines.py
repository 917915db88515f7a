"""The runner environments the benchmarks run: the runner contract of two pipelines.

* ``transform`` — one ``transform`` step reading the event's data, key and offset;
* ``diamond`` — four steps, two of them parallel branches: a ``filter`` on the data, then two
  ``transform`` steps that both need it (run concurrently), then a ``transform`` joining them.

Knative's queue-proxy would hold a pod's in-flight requests to ``containerConcurrency`` (10 by
default); here the load generator's connections all reach the runner, so the pipelines raise it
to :data:`CONTAINER_CONCURRENCY` — above wrk's connections — to measure events, not 429s. Every
event is new to the runner (the load generator sends a new offset each time), so the
duplicate window (on, with its production defaults) never short-cuts a run.
"""

from datetime import UTC, datetime
from typing import Any

from pipeline_models import (
    PipelineId,
    PipelineVersion,
    RunnerSettings,
    encode_runner_env,
    validate_pipeline_spec,
)

TRANSFORM: list[dict[str, Any]] = [
    {
        "type": "transform",
        "id": "shape",
        "output": {
            "order": "${{ event.data.order_id }}",
            "customer": "${{ event.data.customer.id }}",
            "total": "${{ event.data.total }}",
            "key": "${{ event.key }}",
            "offset": "${{ event.offset }}",
        },
    }
]

DIAMOND: list[dict[str, Any]] = [
    {"type": "filter", "id": "paid", "condition": "${{ event.data.total > `0` }}"},
    {
        "type": "transform",
        "id": "summary",
        "needs": ["paid"],
        "output": {"order": "${{ event.data.order_id }}", "total": "${{ event.data.total }}"},
    },
    {
        "type": "transform",
        "id": "skus",
        "needs": ["paid"],
        "output": "${{ event.data.items[].sku }}",
    },
    {
        "type": "transform",
        "id": "joined",
        "output": {"summary": "${{ steps.summary }}", "skus": "${{ steps.skus }}"},
    },
]

CONTAINER_CONCURRENCY = 256
PIPELINES = {"transform": TRANSFORM, "diamond": DIAMOND}


def runner_env(name: str) -> dict[str, str]:
    """The contract environment (``PIPELINE_EVENTS_*``) of the pipeline called ``name``."""
    spec = validate_pipeline_spec(
        {
            "name": f"bench-{name}",
            "options": {"scaling": {"container_concurrency": CONTAINER_CONCURRENCY}},
            "steps": PIPELINES[name],
        }
    )
    version = PipelineVersion(
        pipeline_id=PipelineId("pipeline-bench00000000"),
        version=1,
        spec=spec,
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    return encode_runner_env(pipeline=version, settings=RunnerSettings())
