"""The Events API on Knative, against the real kube-apiserver, as the shipped ServiceAccount.

Knative's controllers are played by the stand-in (`support.knative_controllers`): it marks
objects Ready, holds the KafkaSource finalizer and garbage-collects by owner uid.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client

from events_api.devstack.knative import knative_crds
from events_api.devstack.kubernetes import KubernetesControlPlane, start_kubernetes
from pipeline_models import service_name
from support.api import Api
from support.knative_api import KnativeHarness, knative_harness
from support.kubernetes import api_client_for
from support.rbac import role_rules

pytestmark = pytest.mark.kubernetes

PIPELINES = "/api/v1/pipelines"
EVENTS = "/api/v1/events"


def spec(name: str = "orders", **options: Any) -> dict[str, Any]:
    return {
        "name": name,
        "options": {"event": "orders", **options},
        "steps": [{"type": "transform", "id": "shape", "output": {"n": "${{ event.data.n }}"}}],
    }


@pytest.fixture
async def harness(
    kubernetes: KubernetesControlPlane, admin_api: client.ApiClient, tmp_path: Path
) -> AsyncIterator[KnativeHarness]:
    async with asyncio.timeout(60):
        async with knative_harness(kubernetes.apiserver, admin_api, tmp_path) as harness:
            yield harness


async def eventually(condition: Callable[[], bool], *, seconds: float = 30) -> None:
    """Poll the apiserver until `condition` holds (the stand-in GC acts asynchronously)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.1)


async def create_pipeline(api: Api, body: dict[str, Any] | None = None) -> str:
    response = await api.client.post(PIPELINES, json=body or spec(), headers=api.auth("alice"))
    assert response.status_code == 201, response.text
    pipeline_id: str = response.json()["id"]
    return pipeline_id


async def start(api: Api, pipeline_id: str, **params: str) -> Any:
    response = await api.client.post(
        f"{EVENTS}/{pipeline_id}", params=params, headers=api.auth("alice")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def status(api: Api, pipeline_id: str, **params: str) -> Any:
    response = await api.client.get(
        f"{EVENTS}/{pipeline_id}", params=params, headers=api.auth("alice")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_start_then_ready_then_restart_keeps_the_source(harness: KnativeHarness) -> None:
    api = await harness.instance()
    pipeline_id = await create_pipeline(api)
    answer = await start(api, pipeline_id)
    assert answer["message"] == "Event started successfully"
    assert any("dropped" in warning for warning in answer["warnings"])
    first = await status(api, pipeline_id)
    assert (first["ready"], first["pipeline_version"]) == (False, 1)

    name = service_name(pipeline_id)
    await harness.controllers.set_service_status(name)
    await harness.controllers.set_source_status(name)
    ready = await status(api, pipeline_id, wait="10")
    assert ready["ready"] is True
    assert ready["generation"] == ready["observed_generation"] == 1
    assert ready["url"] == f"http://{name}.{harness.trigger_namespace}.svc.cluster.local"
    source_uid = harness.objects("kafkasources")[0]["metadata"]["uid"]

    await start(api, pipeline_id)
    restarted = await status(api, pipeline_id)
    assert restarted["ready"] is False, "a restart is not ready for its new generation"
    assert restarted["generation"] == 2
    [source] = harness.objects("kafkasources")
    assert source["metadata"]["uid"] == source_uid, "the source (and its offsets) survive"
    [service] = harness.objects("services")
    assert source["metadata"]["ownerReferences"][0]["uid"] == service["metadata"]["uid"]


async def test_status_comes_from_the_cache_not_the_cluster(harness: KnativeHarness) -> None:
    api = await harness.instance()
    pipeline_id = await create_pipeline(api)
    await start(api, pipeline_id)
    await harness.controllers.set_service_status(service_name(pipeline_id))
    await status(api, pipeline_id, wait="10")

    def requests_by_api() -> int:
        return sum(
            1
            for event in harness.apiserver.audit_events()
            if event["user"]["username"] == harness.identity.username
            and event["verb"] not in {"watch"}
        )

    before = requests_by_api()
    for _ in range(20):
        assert (await status(api, pipeline_id))["ready"] is True
    await asyncio.sleep(0.2)  # let the audit log catch up with anything we might have sent
    assert requests_by_api() == before


async def test_a_get_on_another_replica_right_after_a_post_is_right(
    harness: KnativeHarness,
) -> None:
    one, two = await harness.instance(), await harness.instance()
    pipeline_id = await create_pipeline(one)
    await start(one, pipeline_id)
    seen = await status(two, pipeline_id)
    assert (seen["ready"], seen["pipeline_version"]) == (False, 1)


async def test_a_new_version_rolls_out_in_place(harness: KnativeHarness) -> None:
    api = await harness.instance()
    pipeline_id = await create_pipeline(api)
    await start(api, pipeline_id)
    await api.client.put(f"{PIPELINES}/{pipeline_id}", json=spec("v2"), headers=api.auth("alice"))
    answer = await start(api, pipeline_id, pipeline_version="2")
    assert answer["pipeline_version"] == 2
    [service] = harness.objects("services")
    assert service["metadata"]["labels"]["pipeline-events.dev/version"] == "2"
    assert (await status(api, pipeline_id))["pipeline_version"] == 2


async def test_stop_deletes_everything_and_a_second_stop_is_404(harness: KnativeHarness) -> None:
    api = await harness.instance()
    pipeline_id = await create_pipeline(api, spec(delivery={"dead_letter": {"topic": "dlq"}}))
    answer = await start(api, pipeline_id)
    assert answer["dead_letter"]
    assert len(harness.objects("kafkasinks")) == 1
    stopped = await api.client.delete(f"{EVENTS}/{pipeline_id}", headers=api.auth("alice"))
    assert stopped.json() == {"message": "Event deleted successfully"}
    await eventually(lambda: not harness.objects("kafkasources") + harness.objects("services"))
    again = await api.client.delete(f"{EVENTS}/{pipeline_id}", headers=api.auth("alice"))
    assert (again.status_code, again.json()["error"]) == (404, "trigger_not_found")
    gone = await api.client.get(f"{EVENTS}/{pipeline_id}", headers=api.auth("alice"))
    assert gone.status_code == 404


async def test_documented_and_careful_errors(harness: KnativeHarness) -> None:
    api = await harness.instance()
    no_event = await create_pipeline(api, {**spec(), "options": {}})
    refused = await api.client.post(f"{EVENTS}/{no_event}", headers=api.auth("alice"))
    assert refused.status_code == 500
    assert refused.json()["error"] == "pipeline_has_no_event_option"

    pipeline_id = await create_pipeline(api)
    for method in ("POST", "GET", "DELETE"):
        other = await api.client.request(method, f"{EVENTS}/{pipeline_id}", headers=api.auth("bob"))
        assert (other.status_code, other.json()["error"]) == (404, "pipeline_not_found")
    never = await api.client.get(f"{EVENTS}/{pipeline_id}", headers=api.auth("alice"))
    assert (never.status_code, never.json()["error"]) == (404, "trigger_not_found")
    bad = await api.client.post(
        f"{EVENTS}/{pipeline_id}", params={"pipeline_version": "x"}, headers=api.auth("alice")
    )
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_version")
    unknown = await api.client.post(
        f"{EVENTS}/{pipeline_id}", params={"pipeline_version": "7"}, headers=api.auth("alice")
    )
    assert (unknown.status_code, unknown.json()["error"]) == (404, "version_not_found")
    reader = await api.client.post(f"{EVENTS}/{pipeline_id}", headers=api.auth("reader"))
    assert reader.status_code == 403
    assert harness.objects("services") == []


async def test_reset_recreates_the_source_and_says_offsets_are_lost(
    harness: KnativeHarness,
) -> None:
    api = await harness.instance()
    pipeline_id = await create_pipeline(api)
    await start(api, pipeline_id)
    old_uid = harness.objects("kafkasources")[0]["metadata"]["uid"]
    answer = await start(api, pipeline_id, reset="true")
    assert any("offsets" in warning for warning in answer["warnings"])
    [source] = harness.objects("kafkasources")
    assert source["metadata"]["uid"] != old_uid


async def test_concurrent_starts_and_stops_converge_on_the_last_start(
    harness: KnativeHarness,
) -> None:
    one, two = await harness.instance(), await harness.instance()
    pipeline_id = await create_pipeline(one)
    url = f"{EVENTS}/{pipeline_id}"

    async def act(n: int) -> tuple[int, str]:
        api = (one, two)[n % 2]
        if n % 3 == 0:
            response = await api.client.delete(url, headers=api.auth("alice"))
        else:
            response = await api.client.post(url, headers=api.auth("alice"))
        return response.status_code, response.text

    answers = await asyncio.gather(*(act(n) for n in range(20)))
    # Starts and stops interleave freely; none may fail (no 5xx, no raw 409).
    failures = [answer for answer in answers if answer[0] not in {200, 404}]
    assert not failures
    await start(two, pipeline_id)
    await eventually(
        lambda: len(harness.objects("kafkasources")) == len(harness.objects("services")) == 1
    )
    [service], [source] = harness.objects("services"), harness.objects("kafkasources")
    assert source["metadata"]["ownerReferences"][0]["uid"] == service["metadata"]["uid"]
    final = await two.client.delete(url, headers=two.auth("alice"))
    assert final.status_code == 200
    await eventually(lambda: not harness.objects("kafkasources") + harness.objects("services"))


async def test_the_api_uses_exactly_the_shipped_role(harness: KnativeHarness) -> None:
    api = await harness.instance()
    pipeline_id = await create_pipeline(api, spec(delivery={"dead_letter": {"topic": "dlq"}}))
    await start(api, pipeline_id)
    # A new version whose delivery differs updates the source and the sink in place.
    changed = spec(delivery={"retry": 3, "dead_letter": {"topic": "dlq-2"}})
    await api.client.put(f"{PIPELINES}/{pipeline_id}", json=changed, headers=api.auth("alice"))
    await start(api, pipeline_id)
    await start(api, pipeline_id, reset="true")
    await api.client.delete(f"{EVENTS}/{pipeline_id}", headers=api.auth("alice"))
    used = {
        (event["verb"], event["objectRef"]["resource"])
        for event in harness.apiserver.audit_events()
        if event["user"]["username"] == harness.identity.username and "objectRef" in event
    }
    assert used == role_rules()


async def test_a_missing_permission_is_named(harness: KnativeHarness) -> None:
    api = await harness.instance()
    pipeline_id = await create_pipeline(api)
    harness.apiserver.request(
        "DELETE",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{harness.trigger_namespace}"
        "/rolebindings/pipeline-events-api",
    )
    response = await api.client.post(f"{EVENTS}/{pipeline_id}", headers=api.auth("alice"))
    assert (response.status_code, response.json()["error"]) == (500, "trigger_failed")
    message = response.json()["message"]
    assert "may not get services.serving.knative.dev" in message
    assert harness.trigger_namespace in message


async def test_missing_knative_apis_are_named(admin_api: client.ApiClient, tmp_path: Path) -> None:
    # A cluster with Knative Serving but without the Kafka source and sink.
    with start_kubernetes(workdir=tmp_path / "kubernetes") as plane:
        only_serving = [
            crd for crd in knative_crds() if crd["spec"]["group"] == "serving.knative.dev"
        ]
        plane.apiserver.install_crds(only_serving)
        admin = await api_client_for(plane.apiserver, plane.apiserver.admin_token, name="admin")
        async with admin, knative_harness(plane.apiserver, admin, tmp_path) as harness:
            api = await harness.instance()
            assert (await api.client.get("/readyz")).status_code == 200
            pipeline_id = await create_pipeline(api)
            response = await api.client.post(f"{EVENTS}/{pipeline_id}", headers=api.auth("alice"))
            assert (response.status_code, response.json()["error"]) == (503, "unavailable")
            assert "kafkasources.sources.knative.dev" in response.json()["message"]
            assert "kafkasinks.eventing.knative.dev" in response.json()["message"]


async def test_status_keeps_answering_with_the_apiserver_down(
    admin_api: client.ApiClient, tmp_path: Path
) -> None:
    with start_kubernetes(workdir=tmp_path / "kubernetes") as plane:
        plane.apiserver.install_crds(knative_crds())
        admin = await api_client_for(plane.apiserver, plane.apiserver.admin_token, name="admin")
        async with admin, knative_harness(plane.apiserver, admin, tmp_path) as harness:
            api = await harness.instance()
            pipeline_id = await create_pipeline(api)
            await start(api, pipeline_id)
            await harness.controllers.set_service_status(service_name(pipeline_id))
            assert (await status(api, pipeline_id, wait="10"))["ready"] is True
            # The stand-in is done; a crash is not its business.
            await harness.controllers.stop()
            plane.apiserver.kill()
            for _ in range(5):
                answer = await status(api, pipeline_id)
                assert (answer["ready"], answer["pipeline_version"]) == (True, 1)


async def test_deleting_a_running_pipeline_needs_force_and_stops_its_trigger(
    harness: KnativeHarness,
) -> None:
    api = await harness.instance()
    pipeline_id = await create_pipeline(api)
    await start(api, pipeline_id)
    url = f"{PIPELINES}/{pipeline_id}"
    refused = await api.client.delete(url, headers=api.auth("alice"))
    assert (refused.status_code, refused.json()["error"]) == (409, "conflict")
    assert len(harness.objects("services")) == 1
    forced = await api.client.delete(url, params={"force": "true"}, headers=api.auth("alice"))
    assert forced.status_code == 200
    await eventually(lambda: not harness.objects("kafkasources") + harness.objects("services"))
    assert (await api.client.get(url, headers=api.auth("alice"))).status_code == 404
