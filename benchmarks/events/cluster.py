"""The real kube-apiserver the benchmarks run against, and the test harness over it.

The control plane is the tests' (etcd + kube-apiserver with Knative's CRDs, `events_api.devstack`);
the API runs as the shipped ServiceAccount through `support.knative_api` (from `tests/`), with
the Knative controllers played by `support.knative_controllers`.
"""

import asyncio
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from pipeline_models import service_name  # noqa: E402
from support.api import Api  # noqa: E402
from support.knative_api import KnativeHarness  # noqa: E402

PIPELINES = "/api/v1/pipelines"
EVENTS = "/api/v1/events"
CALLER = "alice"
TENANT = "tenant-a"
"""alice's tenant in the harness's token file (`support.api.write_token_file`)."""


def pipeline_spec(name: str = "orders") -> dict[str, Any]:
    """A one-step pipeline on topic `orders`, like the integration tests'."""
    return {
        "name": name,
        "options": {"event": "orders"},
        "steps": [{"type": "transform", "id": "shape", "output": {"n": "${{ event.data.n }}"}}],
    }


async def create_pipeline(api: Api) -> str:
    """A new pipeline of alice's; its id."""
    response = await api.client.post(PIPELINES, json=pipeline_spec(), headers=api.auth(CALLER))
    if response.status_code != 201:
        raise SystemExit(f"creating a pipeline failed: {response.status_code} {response.text}")
    pipeline_id: str = response.json()["id"]
    return pipeline_id


async def start(api: Api, pipeline_id: str) -> None:
    """POST /api/v1/events/{id}; exits on anything but 200."""
    response = await api.client.post(f"{EVENTS}/{pipeline_id}", headers=api.auth(CALLER))
    if response.status_code != 200:
        raise SystemExit(f"start failed: {response.status_code} {response.text}")


async def ready_trigger(harness: KnativeHarness, api: Api) -> str:
    """A started pipeline whose Service and source the controllers marked Ready, as the API's
    cache sees it; its id."""
    pipeline_id = await create_pipeline(api)
    await start(api, pipeline_id)
    name = service_name(pipeline_id)
    await harness.controllers.set_service_status(name)
    await harness.controllers.set_source_status(name)
    async with asyncio.timeout(30):
        while True:
            response = await api.client.get(
                f"{EVENTS}/{pipeline_id}", params={"wait": "10"}, headers=api.auth(CALLER)
            )
            answer = response.json()
            if answer.get("ready") and answer.get("source_ready"):
                return pipeline_id
            await asyncio.sleep(0.05)
