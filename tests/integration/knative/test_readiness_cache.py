"""The readiness cache against a real kube-apiserver: a paginated first list gates readiness,
status changes and deletes arrive through the watch, unmanaged objects stay out, and the watch
survives what clusters do to it — an apiserver restart, a 410 Gone after compaction, an API
that is not installed yet."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kubernetes_asyncio import client

from events_api.devstack.knative import knative_crds
from events_api.devstack.kubernetes import KubernetesControlPlane, start_kubernetes
from events_api.triggers.errors import MissingApi, TriggerError
from events_api.triggers.knative.kinds import KAFKA_SINK, SERVICE, Kind
from events_api.triggers.knative.labels import MANAGED_BY, MANAGED_BY_VALUE, PIPELINE_LABEL
from events_api.triggers.knative.readiness import ObjectSummary, ReadinessCache, deleted_uid
from events_api.triggers.knative.settings import KnativeSettings
from events_api.triggers.knative.watching import ReadinessWatcher, watched_kinds
from support.knative_controllers import KnativeControllers
from support.knative_objects import knative_service
from support.kubernetes import api_client_for, create_namespace

pytestmark = pytest.mark.kubernetes

# Generous bounds for a loaded CI machine; the tests wait on events, never for a duration.
WAIT = 30.0


def settings_for(namespace: str, **overrides: Any) -> KnativeSettings:
    """Small pages and quick reconnections, so the tests exercise them."""
    values: dict[str, Any] = {
        "namespace": namespace,
        "list_page_size": 2,
        "watch_timeout_seconds": 10,
        "watch_inactivity_seconds": 30.0,
        "watch_backoff_max_seconds": 0.5,
        "request_timeout_seconds": 5.0,
    } | overrides
    return KnativeSettings(**values)


def managed_service(name: str) -> dict[str, Any]:
    body = knative_service(name)
    body["metadata"]["labels"] |= {MANAGED_BY: MANAGED_BY_VALUE, PIPELINE_LABEL: name}
    return body


async def create(api: client.ApiClient, namespace: str, body: dict[str, Any]) -> Any:
    return await client.CustomObjectsApi(api).create_namespaced_custom_object(
        SERVICE.group, SERVICE.version, namespace, SERVICE.plural, body
    )


async def delete(api: client.ApiClient, namespace: str, name: str) -> Any:
    return await client.CustomObjectsApi(api).delete_namespaced_custom_object(
        SERVICE.group, SERVICE.version, namespace, SERVICE.plural, name
    )


async def managed_names(api: client.ApiClient, namespace: str) -> set[str]:
    listing = await client.CustomObjectsApi(api).list_namespaced_custom_object(
        SERVICE.group,
        SERVICE.version,
        namespace,
        SERVICE.plural,
        label_selector=f"{MANAGED_BY}={MANAGED_BY_VALUE}",
    )
    return {item["metadata"]["name"] for item in listing["items"]}


async def until(
    cache: ReadinessCache, name: str, predicate: Any, *, kind: Kind = SERVICE
) -> ObjectSummary | None:
    """Wait (on the cache's own wake-ups) until the entry fits; fail with what it holds."""
    found = await cache.wait_for(kind, name, predicate, timeout=WAIT)
    assert predicate(found), f"{kind.kind} {name} in the cache: {found}"
    return found


def present(found: ObjectSummary | None) -> bool:
    return found is not None


def absent(found: ObjectSummary | None) -> bool:
    return found is None


async def synced(watcher: ReadinessWatcher) -> None:
    async with asyncio.timeout(WAIT):
        await watcher.cache.wait_until_synced()


class RecordingCache(ReadinessCache):
    """A cache that also records deletions and lets a test wait for a kind to be unavailable."""

    def __init__(self, kinds: tuple[Kind, ...]) -> None:
        super().__init__(kinds, on_deleted=self._record)
        self.deleted: list[str] = []
        self.reported = asyncio.Event()

    def _record(self, _: Kind, summary: ObjectSummary) -> None:
        self.deleted.append(summary.name)

    def on_unavailable(self, kind: Kind, problem: TriggerError) -> None:
        super().on_unavailable(kind, problem)
        self.reported.set()


# On the session's control plane --------------------------------------------------------------


async def test_the_first_list_is_paginated_and_gates_readiness(
    kubernetes: KubernetesControlPlane, admin_api: client.ApiClient, namespace: str
) -> None:
    for n in range(5):
        await create(admin_api, namespace, managed_service(f"managed-{n}"))
    await create(admin_api, namespace, knative_service("unmanaged"))
    watcher = ReadinessWatcher(admin_api, settings=settings_for(namespace))
    assert not watcher.cache.all_synced()
    async with watcher:
        await synced(watcher)
        assert watcher.cache.names(SERVICE) == {f"managed-{n}" for n in range(5)}
        assert watcher.stats(SERVICE).lists == 1
        assert watcher.stats(SERVICE).relists == 0

    def service_lists() -> list[dict[str, list[str]]]:
        prefix = f"/apis/serving.knative.dev/v1/namespaces/{namespace}/services?"
        uris = [e["requestURI"] for e in kubernetes.apiserver.audit_events() if e["verb"] == "list"]
        return [parse_qs(urlsplit(uri).query) for uri in uris if uri.startswith(prefix)]

    # The audit log is written just after each response; wait for the last page's line.
    # Polling is the only way to wait for a file another process appends to.
    async with asyncio.timeout(WAIT):
        while len(pages := service_lists()) < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert [page["limit"] for page in pages] == [["2"]] * 3
    assert ["continue" in page for page in pages] == [False, True, True]


async def test_status_changes_and_deletes_reach_the_cache(
    admin_api: client.ApiClient, namespace: str, knative_controllers: KnativeControllers
) -> None:
    cache = RecordingCache(watched_kinds(settings_for(namespace)))
    async with ReadinessWatcher(admin_api, settings=settings_for(namespace), cache=cache):
        await synced_cache(cache)
        await create(admin_api, namespace, managed_service("orders"))
        pending = await until(cache, "orders", present)
        assert pending is not None
        assert pending.ready is None

        await knative_controllers.set_service_status(
            "orders", ready="False", reason="RevisionFailed", message="image pull backoff"
        )
        failed = await until(cache, "orders", lambda s: s is not None and s.ready is False)
        assert failed is not None
        assert (failed.reason, failed.message) == ("RevisionFailed", "image pull backoff")

        await knative_controllers.set_service_status("orders", ready="True")
        ready = await until(cache, "orders", lambda s: s is not None and s.ready is True)
        assert ready is not None
        assert ready.url == f"http://orders.{namespace}.svc.cluster.local"

        await delete(admin_api, namespace, "orders")
        await until(cache, "orders", absent)
        assert cache.deleted == ["orders"]


async def synced_cache(cache: ReadinessCache) -> None:
    async with asyncio.timeout(WAIT):
        await cache.wait_until_synced()


async def test_objects_without_the_managed_label_are_ignored(
    admin_api: client.ApiClient, namespace: str
) -> None:
    async with ReadinessWatcher(admin_api, settings=settings_for(namespace)) as watcher:
        await synced(watcher)
        await create(admin_api, namespace, knative_service("unmanaged"))
        await create(admin_api, namespace, managed_service("managed"))
        # Events come in resourceVersion order: had the first been watched, it came first.
        await until(watcher.cache, "managed", present)
        assert watcher.cache.names(SERVICE) == {"managed"}


async def test_a_write_through_shows_the_new_generation_not_ready_at_once(
    admin_api: client.ApiClient, namespace: str, knative_controllers: KnativeControllers
) -> None:
    async with ReadinessWatcher(admin_api, settings=settings_for(namespace)) as watcher:
        await synced(watcher)
        cache = watcher.cache
        cache.write_through(await create(admin_api, namespace, managed_service("orders")))
        await knative_controllers.set_service_status("orders", ready="True")
        await until(cache, "orders", lambda s: s is not None and s.ready is True)

        objects = client.CustomObjectsApi(admin_api)
        current = await objects.get_namespaced_custom_object(
            SERVICE.group, SERVICE.version, namespace, SERVICE.plural, "orders"
        )
        current["spec"]["template"]["spec"]["containers"][0]["image"] = "example.com/runner:2"
        replaced = await objects.replace_namespaced_custom_object(
            SERVICE.group, SERVICE.version, namespace, SERVICE.plural, "orders", current
        )
        # No await between the write and the read: the watch cannot have delivered anything.
        written = cache.write_through(replaced)
        assert (written.generation, written.ready) == (2, None)
        assert cache.get(SERVICE, "orders") == written

        await knative_controllers.set_service_status("orders", ready="True")
        ready = await until(cache, "orders", lambda s: s is not None and s.ready is True)
        assert ready is not None
        assert ready.generation == 2

        answer = await delete(admin_api, namespace, "orders")
        assert deleted_uid(answer) == ready.uid
        cache.write_through_delete(SERVICE, "orders", deleted_uid(answer))
        assert cache.get(SERVICE, "orders") is None


# A 410 after compaction, on the control plane without a watch cache -------------------------


class GatedSleep:
    """Backoff sleeps that block until the test opens the gate, once `expected` callers wait."""

    def __init__(self, expected: int) -> None:
        self._expected = expected
        self._waiting = 0
        self.all_waiting = asyncio.Event()
        self.gate = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        if not self.gate.is_set():
            self._waiting += 1
            if self._waiting >= self._expected:
                self.all_waiting.set()
            await self.gate.wait()
        await asyncio.sleep(min(delay, 0.1))


async def test_a_410_after_compaction_relists_and_reports_what_vanished(
    kubernetes_without_watch_cache: KubernetesControlPlane,
) -> None:
    plane = kubernetes_without_watch_cache
    namespace = create_namespace(plane.apiserver)
    api = await api_client_for(plane.apiserver, plane.apiserver.admin_token, name="admin-410")
    # Without a watch cache there are no bookmarks: each idle watch is presumed dead after
    # 5 s, and its backoff sleep is where the test holds it while history is compacted.
    settings = settings_for(namespace, watch_inactivity_seconds=5.0, watch_timeout_seconds=300)
    kinds = watched_kinds(settings)
    cache = RecordingCache(kinds)
    gated = GatedSleep(expected=len(kinds))
    async with api, ReadinessWatcher(api, settings=settings, cache=cache, sleep=gated) as watcher:
        for name in ("kept", "doomed"):
            await create(api, namespace, managed_service(name))
        await synced_cache(cache)
        await until(cache, "doomed", present)
        async with asyncio.timeout(WAIT):
            await gated.all_waiting.wait()

        # While every watch is disconnected: one object goes, one comes, history is compacted.
        await delete(api, namespace, "doomed")
        await create(api, namespace, managed_service("newcomer"))
        plane.etcd.compact()
        assert cache.names(SERVICE) == {"kept", "doomed"}
        gated.gate.set()

        await until(cache, "newcomer", present)
        await until(cache, "doomed", absent)
        stats = watcher.stats(SERVICE)
        assert stats.gone >= 1
        assert stats.relists >= 1
        assert cache.deleted == ["doomed"]
        assert cache.names(SERVICE) == await managed_names(api, namespace)


# On a control plane of this module's own: restarts, and an API installed late ----------------


@pytest.fixture(scope="module")
def own_kubernetes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubernetesControlPlane]:
    """A control plane these tests may restart, with every Knative CRD but KafkaSink's."""
    with start_kubernetes(workdir=tmp_path_factory.mktemp("kubernetes-readiness")) as plane:
        plane.apiserver.install_crds(
            [c for c in knative_crds() if c["spec"]["names"]["kind"] != KAFKA_SINK.kind]
        )
        yield plane


@pytest.fixture
async def own_api(own_kubernetes: KubernetesControlPlane) -> AsyncIterator[client.ApiClient]:
    apiserver = own_kubernetes.apiserver
    api = await api_client_for(apiserver, apiserver.admin_token, name="admin-readiness")
    async with api:
        yield api


async def test_the_watch_survives_an_apiserver_restart(
    own_kubernetes: KubernetesControlPlane, own_api: client.ApiClient
) -> None:
    namespace = create_namespace(own_kubernetes.apiserver)
    cache = RecordingCache(watched_kinds(settings_for(namespace)))
    async with ReadinessWatcher(own_api, settings=settings_for(namespace), cache=cache) as watcher:
        await create(own_api, namespace, managed_service("before"))
        await until(cache, "before", present)
        stats = watcher.stats(SERVICE)
        requests = stats.lists + stats.rewatches

        await asyncio.to_thread(own_kubernetes.apiserver.restart)
        await create(own_api, namespace, managed_service("after"))
        await delete(own_api, namespace, "before")

        await until(cache, "after", present)
        await until(cache, "before", absent)
        # Whether it resumed from its version or was told 410 and re-listed, it asked again.
        assert stats.lists + stats.rewatches > requests
        assert cache.names(SERVICE) == await managed_names(own_api, namespace)


async def test_a_missing_api_is_reported_until_it_is_installed(
    own_kubernetes: KubernetesControlPlane, own_api: client.ApiClient
) -> None:
    namespace = create_namespace(own_kubernetes.apiserver)
    cache = RecordingCache(watched_kinds(settings_for(namespace)))
    async with ReadinessWatcher(own_api, settings=settings_for(namespace), cache=cache):
        async with asyncio.timeout(WAIT):
            await cache.reported.wait()
        assert cache.missing_apis() == (KAFKA_SINK,)
        problem = cache.unavailable(KAFKA_SINK)
        assert isinstance(problem, MissingApi)
        assert "kafkasinks.eventing.knative.dev/v1alpha1" in str(problem)
        async with asyncio.timeout(WAIT):
            await cache.wait_until_synced(SERVICE)
        assert not cache.all_synced()

        await asyncio.to_thread(own_kubernetes.apiserver.install_crds, knative_crds())
        await synced_cache(cache)
        assert cache.missing_apis() == ()
