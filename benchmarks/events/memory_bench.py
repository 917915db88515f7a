"""Part 3: the readiness cache's memory per entry, with 10,000 managed Services listed.

The Services are real objects in a fresh namespace of the real apiserver: each built by the
product's own `build_service` for a distinct pipeline (so labels, annotations and the template
are what production writes, managed-by label included), created concurrently by the admin, then
given a status the way Knative's controller writes it (the stand-in's `set_service_status`):
Ready with URL and revision names, or — for `failing_share` of them — Ready False with a long
failure message, the largest summary an entry can hold.

The measurement runs in a child process (`memory_probe.py`), so nothing else of this process
(the harness, its watches, the created objects) is traced: see that module.
"""

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cluster  # noqa: F401 - puts tests/ on sys.path, for support.*
import msgspec
from kubernetes_asyncio import client

from events_api.devstack.kubernetes import KubeApiServer
from events_api.triggers.knative.kinds import SERVICE
from events_api.triggers.knative.service_manifest import build_service
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import PipelineId, PipelineVersion, TenantId, new_pipeline_id
from pipeline_models.validation import validate_pipeline_spec
from support.knative_controllers import KnativeControllers
from support.kubernetes import create_namespace

HERE = Path(__file__).resolve().parent
CONCURRENCY = 32
SPEC = {
    "name": "orders to warehouse",
    "options": {
        "event": "orders",
        "scaling": {"min_scale": 0, "max_scale": 20, "target_concurrency": 8},
        "delivery": {"retry": 5, "dead_letter": {"topic": "orders.dlq"}},
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
FAILURE_REASON = "RevisionFailed"
FAILURE_MESSAGE = (
    'Revision "{name}-00001" failed with message: Container failed with: Traceback (most '
    'recent call last):\n  File "/app/runner.py", line 42, in <module>\n    main()\n'
    "ConnectionError: cannot reach kafka-0.kafka.svc.cluster.local:9092 (connection refused); "
    "the pipeline runner exits after 5 attempts, see the revision's logs for details."
)


def _services(namespace: str, count: int) -> list[dict[str, Any]]:
    settings = KnativeSettings(
        namespace=namespace,
        runner_image="registry.example.com/pipeline-events-runner:1.4.2",
        kafka_bootstrap_servers=("kafka-0.kafka:9093", "kafka-1.kafka:9093"),
    )
    template = PipelineVersion(
        pipeline_id=PipelineId("pipeline-000000000000"),
        version=3,
        spec=validate_pipeline_spec(msgspec.json.encode(SPEC)),
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )
    started_at = datetime.now(UTC)
    return [
        build_service(
            msgspec.structs.replace(template, pipeline_id=new_pipeline_id()),
            tenant=TenantId(f"tenant-{index % 50}@example.com"),
            settings=settings,
            started_at=started_at,
        )
        for index in range(count)
    ]


async def _populate(
    admin: client.ApiClient, namespace: str, *, count: int, failing_share: float
) -> float:
    """Create `count` Services and write their status; seconds it took."""
    objects = client.CustomObjectsApi(admin)
    controllers = KnativeControllers(admin, namespace)  # its status writers only, no watches
    gate = asyncio.Semaphore(CONCURRENCY)
    failing_every = round(1 / failing_share) if failing_share > 0 else 0

    async def one(index: int, body: dict[str, Any]) -> None:
        name = body["metadata"]["name"]
        async with gate:
            await objects.create_namespaced_custom_object(
                SERVICE.group, SERVICE.version, namespace, SERVICE.plural, body
            )
            if failing_every and index % failing_every == 0:
                await controllers.set_service_status(
                    name,
                    ready="False",
                    reason=FAILURE_REASON,
                    message=FAILURE_MESSAGE.format(name=name),
                )
            else:
                await controllers.set_service_status(name)

    began = time.monotonic()
    bodies = _services(namespace, count)
    done = 0
    for batch in range(0, count, 1000):
        await asyncio.gather(
            *(one(batch + i, body) for i, body in enumerate(bodies[batch : batch + 1000]))
        )
        done += len(bodies[batch : batch + 1000])
        print(
            f"  memory: {done}/{count} Services created and given a status",
            file=sys.stderr,
            flush=True,
        )
    return time.monotonic() - began


async def run_memory(
    apiserver: KubeApiServer,
    admin: client.ApiClient,
    *,
    services: int,
    failing_share: float,
) -> dict[str, Any]:
    """Populate a fresh namespace, then measure the cache's sync in a child process."""
    namespace = create_namespace(apiserver)
    seconds = await _populate(admin, namespace, count=services, failing_share=failing_share)
    # The admin lists here: the memory does not depend on who lists.
    kubeconfig = apiserver.write_kubeconfig(apiserver.admin_token, name="bench-memory")
    command = [sys.executable, str(HERE / "memory_probe.py"), "--kubeconfig", str(kubeconfig)]
    command += ["--namespace", namespace, "--expect", str(services)]
    probe = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, check=False
    )
    sys.stderr.write(probe.stderr)
    if probe.returncode != 0:
        raise SystemExit(f"the memory probe failed:\n{probe.stdout}\n{probe.stderr}")
    outcome: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])
    outcome["populate_seconds"] = seconds
    outcome["failing_share"] = failing_share
    return outcome


def report_memory(outcome: dict[str, Any]) -> None:
    """The per-entry numbers and the 2 KiB target."""
    entries = outcome["entries"]
    per_traced = outcome["retained_traced_bytes"] / entries
    per_deep = outcome["deep_bytes"] / entries
    verdict = "met" if max(per_traced, per_deep) <= 2048 else "MISSED"
    print(
        f"readiness cache, {entries} Services listed ({outcome['failing_share']:.0%} Ready=False "
        f"with a {len(FAILURE_MESSAGE) + 12}-character message), ReadinessWatcher, page size "
        f"{outcome['page_size']}"
    )
    print(
        f"retained (tracemalloc, after sync, watcher stopped, gc): "
        f"{outcome['retained_traced_bytes'] / 1024:.0f} KiB = {per_traced:.0f} B/entry"
    )
    print(
        f"deep size of the entries (getsizeof, shared objects once): "
        f"{outcome['deep_bytes'] / 1024:.0f} KiB = {per_deep:.0f} B/entry "
        f"(Ready entry {outcome['deep_ready_entry']} B, failing entry "
        f"{outcome['deep_failing_entry']} B, dict slot {outcome['dict_bytes_per_entry']:.0f} B)"
    )
    print(
        f"transient peak during the list (tracemalloc): {outcome['peak_traced_bytes'] / 2**20:.1f}"
        f" MiB; first sync {outcome['sync_seconds_untraced']:.1f} s (untraced), "
        f"{outcome['sync_seconds']:.1f} s traced; RSS grew "
        f"{outcome['rss_growth_bytes'] / 2**20:.1f} MiB"
    )
    print(f"populating took {outcome['populate_seconds']:.0f} s")
    print(f"target <= 2 KiB per entry: {verdict}")
