"""The test control plane behaves like a cluster's: CRUD and watch on Knative objects, status
written by the controller stand-in, finalizers and garbage collection, RBAC, 410 after compaction,
and an audit log."""

import asyncio
import uuid
from typing import Any

import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from events_api.devstack.kubernetes import KUBERNETES_VERSION, KubernetesControlPlane
from events_api.triggers.knative.kinds import Kind
from support.knative_controllers import KnativeControllers
from support.knative_objects import (
    KAFKA_SOURCE,
    KAFKA_SOURCE_FINALIZER,
    SERVICE,
    kafka_source,
    knative_service,
)
from support.kubernetes import api_client_for, create_namespace


async def _create(api: client.ApiClient, kind: Kind, namespace: str, body: dict[str, Any]) -> Any:
    objects = client.CustomObjectsApi(api)
    return await objects.create_namespaced_custom_object(
        kind.group, kind.version, namespace, kind.plural, body
    )


async def _names(api: client.ApiClient, kind: Kind, namespace: str) -> set[str]:
    listing = await client.CustomObjectsApi(api).list_namespaced_custom_object(
        kind.group, kind.version, namespace, kind.plural
    )
    return {item["metadata"]["name"] for item in listing["items"]}


async def _next_event(
    api: client.ApiClient, kind: Kind, namespace: str, resource_version: str, wanted: Any
) -> dict[str, Any]:
    """The first watch event from `resource_version` on that satisfies `wanted`."""
    objects = client.CustomObjectsApi(api)
    async with asyncio.timeout(30), watch.Watch() as stream:
        async for event in stream.stream(
            objects.list_namespaced_custom_object,
            kind.group,
            kind.version,
            namespace,
            kind.plural,
            resource_version=resource_version,
            timeout_seconds=25,
        ):
            if wanted(event):
                found: dict[str, Any] = event
                return found
    raise AssertionError("the watch ended without the expected event")


def test_the_apiserver_is_the_pinned_release(kubernetes: KubernetesControlPlane) -> None:
    assert kubernetes.apiserver.request("GET", "/version")["gitVersion"] == f"v{KUBERNETES_VERSION}"


async def test_a_service_is_created_listed_watched_and_deleted(
    admin_api: client.ApiClient, namespace: str
) -> None:
    objects = client.CustomObjectsApi(admin_api)
    listing = await objects.list_namespaced_custom_object(
        SERVICE.group, SERVICE.version, namespace, SERVICE.plural
    )
    assert listing["items"] == []
    created = await _create(admin_api, SERVICE, namespace, knative_service("orders"))
    assert created["metadata"]["generation"] == 1
    assert await _names(admin_api, SERVICE, namespace) == {"orders"}

    await objects.delete_namespaced_custom_object(
        SERVICE.group, SERVICE.version, namespace, SERVICE.plural, "orders"
    )
    event = await _next_event(
        admin_api,
        SERVICE,
        namespace,
        created["metadata"]["resourceVersion"],
        lambda e: e["type"] == "DELETED",
    )
    assert event["raw_object"]["metadata"]["uid"] == created["metadata"]["uid"]
    assert await _names(admin_api, SERVICE, namespace) == set()


async def test_a_watch_sees_the_controllers_mark_a_service_ready(
    admin_api: client.ApiClient, namespace: str, knative_controllers: KnativeControllers
) -> None:
    created = await _create(admin_api, SERVICE, namespace, knative_service("orders"))
    await knative_controllers.set_service_status("orders", ready="False", reason="RevisionFailed")
    await knative_controllers.set_service_status("orders", ready="True")

    def ready(event: dict[str, Any]) -> bool:
        status = event["raw_object"].get("status", {})
        conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
        return conditions.get("Ready") == "True"

    event = await _next_event(
        admin_api, SERVICE, namespace, created["metadata"]["resourceVersion"], ready
    )
    status = event["raw_object"]["status"]
    assert status["observedGeneration"] == 1
    assert status["url"] == f"http://orders.{namespace}.svc.cluster.local"
    assert status["latestReadyRevisionName"] == "orders-00001"


async def test_an_owned_source_is_collected_after_its_finalizer(
    admin_api: client.ApiClient, namespace: str, knative_controllers: KnativeControllers
) -> None:
    service = await _create(admin_api, SERVICE, namespace, knative_service("orders"))
    source = await _create(
        admin_api,
        KAFKA_SOURCE,
        namespace,
        kafka_source("orders", sink_service="orders", owner=service),
    )
    objects = client.CustomObjectsApi(admin_api)

    def has_finalizer(event: dict[str, Any]) -> bool:
        return KAFKA_SOURCE_FINALIZER in (event["raw_object"]["metadata"].get("finalizers") or [])

    await _next_event(
        admin_api, KAFKA_SOURCE, namespace, source["metadata"]["resourceVersion"], has_finalizer
    )
    await objects.delete_namespaced_custom_object(
        SERVICE.group, SERVICE.version, namespace, SERVICE.plural, "orders"
    )
    terminating = await _next_event(
        admin_api,
        KAFKA_SOURCE,
        namespace,
        source["metadata"]["resourceVersion"],
        lambda e: bool(e["raw_object"]["metadata"].get("deletionTimestamp")),
    )
    assert terminating["type"] == "MODIFIED"
    await _next_event(
        admin_api,
        KAFKA_SOURCE,
        namespace,
        terminating["raw_object"]["metadata"]["resourceVersion"],
        lambda e: e["type"] == "DELETED",
    )
    assert await _names(admin_api, KAFKA_SOURCE, namespace) == set()


async def test_a_service_account_without_a_role_is_forbidden(
    kubernetes: KubernetesControlPlane, namespace: str
) -> None:
    apiserver = kubernetes.apiserver
    apiserver.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody"}},
    )
    token = apiserver.service_account_token(namespace, "nobody")
    api = await api_client_for(apiserver, token, name="nobody")
    async with api:
        with pytest.raises(ApiException) as denied:
            await _names(api, SERVICE, namespace)
    assert denied.value.status == 403
    assert f"system:serviceaccount:{namespace}:nobody" in str(denied.value.body)


async def test_a_compaction_makes_an_old_watch_fail_with_410(
    kubernetes_without_watch_cache: KubernetesControlPlane,
) -> None:
    plane = kubernetes_without_watch_cache
    namespace = create_namespace(plane.apiserver)
    api = await api_client_for(plane.apiserver, plane.apiserver.admin_token, name="admin-nwc")
    async with api:
        objects = client.CustomObjectsApi(api)
        listing = await objects.list_namespaced_custom_object(
            SERVICE.group, SERVICE.version, namespace, SERVICE.plural
        )
        stale = listing["metadata"]["resourceVersion"]
        for n in range(3):
            await _create(api, SERVICE, namespace, knative_service(f"s{n}"))
        plane.etcd.compact()
        with pytest.raises(ApiException) as gone:
            await _next_event(api, SERVICE, namespace, stale, lambda _: True)
    assert gone.value.status == 410


async def test_the_audit_log_records_each_request(
    kubernetes: KubernetesControlPlane, admin_api: client.ApiClient, namespace: str
) -> None:
    name = f"audited-{uuid.uuid4().hex[:6]}"
    await _create(admin_api, SERVICE, namespace, knative_service(name))

    def about_it() -> list[dict[str, Any]]:
        return [
            event
            for event in kubernetes.apiserver.audit_events()
            if event.get("objectRef", {}).get("name") == name
        ]

    # The apiserver writes the ResponseComplete stage just after the response; give it a moment.
    # Polling is the only way to wait for a file another process appends to.
    async with asyncio.timeout(10):
        while not (events := about_it()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert [(e["verb"], e["objectRef"]["resource"], e["stage"]) for e in events] == [
        ("create", "services", "ResponseComplete")
    ]
    assert events[0]["user"]["username"] == "pipeline-events-admin"
    assert events[0]["responseStatus"]["code"] == 201
