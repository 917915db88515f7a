"""The readiness cache without a cluster: Knative's Ready semantics, a re-list replacing the
store, and the ordering rules between watch events and our own writes' responses."""

import asyncio
from typing import Any

import pytest

from events_api.triggers.errors import MissingApi, PermissionDenied
from events_api.triggers.knative.kinds import KAFKA_SINK, SERVICE, Kind, kafka_source
from events_api.triggers.knative.labels import PIPELINE_LABEL, VERSION_LABEL
from events_api.triggers.knative.readiness import (
    NOT_OBSERVED,
    ObjectSummary,
    ReadinessCache,
    deleted_uid,
    is_newer,
    summarize,
)

SOURCE = kafka_source("v1")


def a_service(
    name: str = "orders",
    *,
    uid: str = "uid-1",
    rv: str = "10",
    generation: int = 1,
    status: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": name,
        "uid": uid,
        "resourceVersion": rv,
        "generation": generation,
        "labels": labels or {},
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    body: dict[str, Any] = {"apiVersion": SERVICE.api_version, "kind": "Service"}
    body["metadata"] = metadata
    if status is not None:
        body["status"] = status
    return body


def ready_status(
    status: str, *, observed: int = 1, reason: str | None = None, message: str | None = None
) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": "Ready", "status": status}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return {"observedGeneration": observed, "conditions": [condition]}


def summary(
    name: str = "orders", *, uid: str = "uid-1", rv: str = "10", **fields: Any
) -> ObjectSummary:
    return ObjectSummary(uid=uid, name=name, resource_version=rv, **fields)


def a_cache(**kwargs: Any) -> ReadinessCache:
    return ReadinessCache([SERVICE, SOURCE, KAFKA_SINK], **kwargs)


# summarize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("generation", "status", "expected"),
    [
        pytest.param(1, None, (None, NOT_OBSERVED), id="no status yet"),
        pytest.param(1, ready_status("True"), (True, None), id="ready for its generation"),
        pytest.param(
            1,
            ready_status("False", reason="RevisionFailed", message="image pull"),
            (False, "RevisionFailed"),
            id="failed for its generation",
        ),
        pytest.param(
            1,
            ready_status("Unknown", reason="Deploying"),
            (None, "Deploying"),
            id="still deploying",
        ),
        pytest.param(
            2, ready_status("True", observed=1), (None, NOT_OBSERVED), id="ready for an old spec"
        ),
        pytest.param(
            2,
            ready_status("False", observed=1, reason="RevisionFailed"),
            (None, NOT_OBSERVED),
            id="failed for an old spec",
        ),
        pytest.param(1, {"observedGeneration": 1}, (None, None), id="no Ready condition"),
    ],
)
def test_summarize_follows_knative_ready_for_the_current_spec(
    generation: int, status: dict[str, Any] | None, expected: tuple[bool | None, str | None]
) -> None:
    found = summarize(a_service(generation=generation, status=status))
    assert (found.ready, found.reason) == expected
    assert found.generation == generation


def test_summarize_keeps_message_url_labels_and_deletion() -> None:
    status = ready_status("False", reason="RevisionFailed", message="image pull backoff")
    status["address"] = {"url": "http://orders.ns.svc.cluster.local"}
    labels = {PIPELINE_LABEL: "orders", VERSION_LABEL: "3", "other": "dropped"}
    found = summarize(a_service(status=status, labels=labels, deleting=True, rv="42"))
    assert found == ObjectSummary(
        uid="uid-1",
        name="orders",
        resource_version="42",
        generation=1,
        observed_generation=1,
        ready=False,
        reason="RevisionFailed",
        message="image pull backoff",
        url="http://orders.ns.svc.cluster.local",
        pipeline="orders",
        version="3",
        deleting=True,
    )


def test_summarize_prefers_status_url_and_says_which_generation_is_pending() -> None:
    status = ready_status("True", observed=1) | {"url": "http://a", "address": {"url": "http://b"}}
    found = summarize(a_service(generation=2, status=status))
    assert found.url == "http://a"
    assert found.observed_generation == 1
    assert found.message is not None
    assert "generation 2" in found.message


@pytest.mark.parametrize(
    ("candidate", "held", "newer"),
    [("11", "10", True), ("9", "10", False), ("10", "10", False), ("100", "99", True)],
)
def test_numeric_resource_versions_compare_as_integers(
    candidate: str, held: str, newer: bool
) -> None:
    assert is_newer(candidate, held) is newer


def test_opaque_resource_versions_let_the_later_arrival_win() -> None:
    assert is_newer("b", "a")
    assert is_newer("a", "b")
    assert not is_newer("a", "a")


# snapshots -------------------------------------------------------------------------------


def test_a_kind_is_synced_after_its_first_snapshot_and_all_after_every_kind() -> None:
    cache = a_cache()
    assert not cache.synced(SERVICE)
    cache.on_snapshot(SERVICE, [summary()], "10")
    assert cache.synced(SERVICE)
    assert not cache.all_synced()
    cache.on_snapshot(SOURCE, [], "10")
    cache.on_snapshot(KAFKA_SINK, [], "10")
    assert cache.all_synced()


def test_a_snapshot_replaces_the_store_and_reports_vanished_keys_as_deleted() -> None:
    deleted: list[tuple[Kind, str]] = []
    cache = a_cache(on_deleted=lambda kind, s: deleted.append((kind, s.name)))
    cache.on_snapshot(SERVICE, [summary("a", uid="ua"), summary("b", uid="ub")], "10")
    vanished = cache.on_snapshot(SERVICE, [summary("b", uid="ub", rv="12"), summary("c")], "20")
    assert [s.name for s in vanished] == ["a"]
    assert deleted == [(SERVICE, "a")]
    assert cache.names(SERVICE) == {"b", "c"}
    found = cache.get(SERVICE, "b")
    assert found is not None
    assert found.resource_version == "12"


def test_a_snapshot_keeps_what_was_written_through_after_the_list() -> None:
    cache = a_cache()
    cache.on_snapshot(SERVICE, [], "10")
    cache.write_through(a_service("new", rv="25"))
    cache.write_through(a_service("old", rv="15"))
    # Listed at 20: "new" (written at 25) is newer than the list; "old" is not and is gone.
    vanished = cache.on_snapshot(SERVICE, [], "20")
    assert cache.names(SERVICE) == {"new"}
    assert [s.name for s in vanished] == ["old"]


def test_a_snapshot_taken_before_our_delete_does_not_bring_the_object_back() -> None:
    cache = a_cache()
    cache.on_snapshot(SERVICE, [summary(uid="u1")], "10")
    cache.write_through_delete(SERVICE, "orders", "u1")
    cache.on_snapshot(SERVICE, [summary(uid="u1")], "11")
    assert cache.get(SERVICE, "orders") is None
    # Once a list no longer holds it, the delete is confirmed; a re-creation is news again.
    cache.on_snapshot(SERVICE, [], "12")
    cache.on_event(SERVICE, "ADDED", summary(uid="u1", rv="13"))
    assert cache.get(SERVICE, "orders") is not None


def test_a_snapshot_clears_the_reason_a_kind_was_unavailable() -> None:
    cache = a_cache()
    cache.on_unavailable(SOURCE, MissingApi(["kafkasources.sources.knative.dev/v1"]))
    cache.on_unavailable(KAFKA_SINK, PermissionDenied("may not list kafkasinks"))
    assert cache.missing_apis() == (SOURCE,)
    assert isinstance(cache.unavailable(KAFKA_SINK), PermissionDenied)
    cache.on_snapshot(SOURCE, [], "10")
    assert cache.missing_apis() == ()
    assert cache.unavailable(SOURCE) is None


# events and write-through ---------------------------------------------------------------


def test_events_add_modify_and_delete() -> None:
    deleted: list[str] = []
    cache = a_cache(on_deleted=lambda _, s: deleted.append(s.name))
    assert cache.on_event(SERVICE, "ADDED", summary(rv="11"))
    assert cache.on_event(SERVICE, "MODIFIED", summary(rv="12", ready=True))
    found = cache.get(SERVICE, "orders")
    assert found is not None
    assert found.ready is True
    assert cache.on_event(SERVICE, "DELETED", summary(rv="13"))
    assert cache.get(SERVICE, "orders") is None
    assert deleted == ["orders"]


def test_an_event_older_than_what_the_store_holds_is_ignored() -> None:
    cache = a_cache()
    cache.on_event(SERVICE, "MODIFIED", summary(rv="12", ready=True))
    assert not cache.on_event(SERVICE, "MODIFIED", summary(rv="11", ready=False))
    assert not cache.on_event(SERVICE, "MODIFIED", summary(rv="12", ready=False))
    found = cache.get(SERVICE, "orders")
    assert found is not None
    assert found.ready is True


def test_a_late_delete_of_an_older_incarnation_spares_the_new_one() -> None:
    cache = a_cache()
    cache.on_event(SERVICE, "ADDED", summary(uid="new", rv="20"))
    assert not cache.on_event(SERVICE, "DELETED", summary(uid="old", rv="15"))
    found = cache.get(SERVICE, "orders")
    assert found is not None
    assert found.uid == "new"


def test_a_write_through_shows_the_new_generation_not_ready_until_the_watch_catches_up() -> None:
    cache = a_cache()
    ready_v1 = a_service(rv="10", generation=1, status=ready_status("True"))
    cache.on_event(SERVICE, "MODIFIED", summarize(ready_v1))
    # Our update bumps the generation; the response is newer than anything the watch sent.
    written = cache.write_through(a_service(rv="15", generation=2, status=ready_status("True")))
    assert written.ready is None
    # The watch then delivers events from before our write, and our write itself: no change.
    assert not cache.on_event(SERVICE, "MODIFIED", summarize(ready_v1))
    assert not cache.on_event(SERVICE, "MODIFIED", summary(rv="15", generation=2))
    # The controller reconciles generation 2.
    ready_v2 = a_service(rv="16", generation=2, status=ready_status("True", observed=2))
    assert cache.on_event(SERVICE, "MODIFIED", summarize(ready_v2))
    found = cache.get(SERVICE, "orders")
    assert found is not None
    assert found.ready is True


def test_a_write_through_older_than_the_watch_changes_nothing() -> None:
    cache = a_cache()
    cache.on_event(SERVICE, "MODIFIED", summary(rv="20", ready=True))
    kept = cache.write_through(a_service(rv="18"))
    assert kept.resource_version == "20"
    assert kept.ready is True


def test_a_deleted_object_is_not_resurrected_by_late_events() -> None:
    deleted: list[str] = []
    cache = a_cache(on_deleted=lambda _, s: deleted.append(s.name))
    cache.on_event(SERVICE, "ADDED", summary(uid="u1", rv="10"))
    cache.write_through_delete(SERVICE, "orders", "u1")
    assert cache.get(SERVICE, "orders") is None
    assert deleted == ["orders"]
    # Events from before the delete (finalizers, status) arrive late: still gone.
    assert not cache.on_event(SERVICE, "MODIFIED", summary(uid="u1", rv="11", deleting=True))
    assert not cache.on_event(SERVICE, "DELETED", summary(uid="u1", rv="12"))
    assert cache.get(SERVICE, "orders") is None
    # A new incarnation of the same name is news.
    assert cache.on_event(SERVICE, "ADDED", summary(uid="u2", rv="13"))


def test_a_delete_without_a_uid_removes_the_incarnation_held() -> None:
    cache = a_cache()
    cache.on_event(SERVICE, "ADDED", summary(uid="u1", rv="10"))
    cache.write_through_delete(SERVICE, "orders")
    assert cache.get(SERVICE, "orders") is None
    assert not cache.on_event(SERVICE, "MODIFIED", summary(uid="u1", rv="11"))


def test_a_write_through_finds_the_kind_whatever_version_is_watched() -> None:
    beta = kafka_source("v1beta1")
    cache = ReadinessCache([SERVICE, beta])
    written = {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "KafkaSource",
        "metadata": {"name": "orders", "uid": "s1", "resourceVersion": "5", "generation": 1},
    }
    cache.write_through(written)
    assert cache.get(beta, "orders") is not None
    assert cache.get(SOURCE, "orders") is not None


def test_a_kind_the_cache_does_not_keep_is_refused() -> None:
    cache = ReadinessCache([SERVICE])
    with pytest.raises(ValueError, match="KafkaSink"):
        cache.get(KAFKA_SINK, "orders")
    with pytest.raises(ValueError, match="Secret"):
        cache.write_through({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})


# waiting -------------------------------------------------------------------------------------


def is_ready(found: ObjectSummary | None) -> bool:
    return found is not None and found.ready is True


async def test_wait_for_answers_at_once_when_the_entry_already_fits() -> None:
    cache = a_cache()
    cache.on_event(SERVICE, "ADDED", summary(ready=True))
    found = await cache.wait_for(SERVICE, "orders", is_ready, timeout=0)
    assert is_ready(found)


async def test_wait_for_wakes_on_the_change_it_waits_for() -> None:
    cache = a_cache()
    cache.on_event(SERVICE, "ADDED", summary(rv="10"))
    waiting = asyncio.create_task(cache.wait_for(SERVICE, "orders", is_ready, timeout=60))
    await asyncio.sleep(0)  # let the waiter register
    cache.on_event(SERVICE, "ADDED", summary("other", uid="u9", rv="11", ready=True))
    cache.on_event(SERVICE, "MODIFIED", summary(rv="12", ready=False))
    assert not waiting.done()
    cache.on_event(SERVICE, "MODIFIED", summary(rv="13", ready=True))
    found = await waiting
    assert found is not None
    assert found.resource_version == "13"


async def test_wait_for_wakes_when_a_snapshot_removes_the_entry() -> None:
    cache = a_cache()
    cache.on_snapshot(SERVICE, [summary()], "10")
    waiting = asyncio.create_task(
        cache.wait_for(SERVICE, "orders", lambda found: found is None, timeout=60)
    )
    await asyncio.sleep(0)
    cache.on_snapshot(SERVICE, [], "20")
    assert await waiting is None


async def test_wait_for_answers_the_current_entry_when_time_is_up() -> None:
    cache = a_cache()
    cache.on_event(SERVICE, "ADDED", summary(ready=False))
    found = await cache.wait_for(SERVICE, "orders", is_ready, timeout=0)
    assert found is not None
    assert found.ready is False


async def test_wait_until_synced_returns_after_every_first_list() -> None:
    cache = a_cache()
    waiting = asyncio.create_task(cache.wait_until_synced())
    for kind in (SERVICE, SOURCE):
        cache.on_snapshot(kind, [], "1")
    await asyncio.sleep(0)
    assert not waiting.done()
    cache.on_snapshot(KAFKA_SINK, [], "1")
    await waiting


@pytest.mark.parametrize(
    ("answer", "uid"),
    [
        pytest.param(
            {"kind": "Status", "status": "Success", "details": {"name": "orders", "uid": "u1"}},
            "u1",
            id="deleted at once",
        ),
        pytest.param(a_service(uid="u2", deleting=True), "u2", id="held by finalizers"),
        pytest.param({"kind": "Status", "status": "Success"}, None, id="no uid"),
    ],
)
def test_the_uid_a_delete_removed_is_read_from_its_answer(
    answer: dict[str, Any], uid: str | None
) -> None:
    assert deleted_uid(answer) == uid
